"""Reproducible 95/5 splits: sizes, determinism, disjointness, DIOR-trainval restriction,
at least one val image per set, and datasets that refuse an empty split file."""
import random
import re

import pytest
from mmengine.registry import init_default_scope

from mmsamrs.datasets.split_files import (make_split, num_val, read_stems, restrict_stems,
                                     split_stems)
from mmsamrs.registry import DATASETS


def stems(n: int):
    return [f'{i:05d}' for i in range(1, n + 1)]


def test_val_size_is_floor_and_reproduces_the_paper():
    sizes = {'SOTA': 17480, 'SIOR': 11725, 'FAST': 64147}
    val = {name: num_val(n, 0.05) for name, n in sizes.items()}
    assert val == {'SOTA': 874, 'SIOR': 586, 'FAST': 3207}
    assert sum(val.values()) == 4667 and sum(sizes.values()) - sum(val.values()) == 88685
    assert num_val(10, 0.3) == 3  # decimal 0.3, not the float 0.2999...
    assert num_val(19, 0.05) == 0 and num_val(20, 0.05) == 1
    with pytest.raises(ValueError, match=r'\[0, 1\)'):
        num_val(10, 1.0)


def test_split_is_deterministic_disjoint_complete_and_order_free():
    names = stems(101)
    train, val = split_stems(names, 0.05, seed=7)
    assert (len(train), len(val)) == (96, 5)  # floor(101 * 0.05) = 5
    assert set(train).isdisjoint(val) and sorted(train + val) == names
    assert train == sorted(train) and val == sorted(val)
    shuffled = names[:]
    random.Random(0).shuffle(shuffled)
    assert split_stems(shuffled, 0.05, seed=7) == (train, val)
    assert split_stems(names, 0.05, seed=8)[1] != val


def test_val_is_a_spread_sample_not_a_block():
    train, val = split_stems(stems(2000), 0.05, seed=2023)
    positions = sorted(int(s) for s in val)
    assert len(val) == 100 and positions[0] < 400 and positions[-1] > 1600


def test_duplicates_are_refused(tmp_path):
    with pytest.raises(ValueError, match='1 duplicate'):
        split_stems(['a', 'b', 'a'])
    path = tmp_path / 'list.txt'
    path.write_text('a\n\n b \nb\n')
    with pytest.raises(ValueError, match=r"more than once, e.g. \['b'\]"):
        read_stems(str(path))
    path.write_text('a\n\n b \n')
    assert read_stems(str(path)) == ['a', 'b']


def test_restrict_stems_reports_both_sides():
    kept, unlabelled = restrict_stems(['00001', '00002', '20000'], ['00002', '00001', '00003'])
    assert kept == ['00001', '00002'] and unlabelled == ['00003']


def test_make_split_restricted_to_dior_trainval(tmp_path):
    gray = tmp_path / 'gray'
    gray.mkdir()
    for stem in stems(30):  # SIOR labels of DIOR images 00001..00030 (trainval: 1..20)
        (gray / f'{stem}.png').write_bytes(b'')
    (gray / 'notes.txt').write_text('not a label')
    trainval = tmp_path / 'trainval.txt'
    trainval.write_text(''.join(f'{s}\n' for s in stems(20) + ['09999']))
    summary = make_split(str(gray), str(tmp_path / 'splits'), 0.05, 2023, str(trainval))
    assert (summary['labels'], summary['dropped']) == (30, 10)
    assert (summary['train'], summary['val']) == (19, 1)
    assert summary['unlabelled'] == ['09999']
    train = read_stems(str(tmp_path / 'splits' / 'train.txt'))
    val = read_stems(str(tmp_path / 'splits' / 'val.txt'))
    assert sorted(train + val) == stems(20) and len(val) == 1
    unrestricted = make_split(str(gray), str(tmp_path / 'all'))
    assert (unrestricted['train'], unrestricted['val'], unrestricted['dropped']) == (29, 1, 0)


def test_make_split_without_labels_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match='label folder'):
        make_split(str(tmp_path / 'gray'), str(tmp_path))
    (tmp_path / 'gray').mkdir()
    (tmp_path / 'gray' / '1.png').write_bytes(b'')
    (tmp_path / 'keep.txt').write_text('2\n')
    with pytest.raises(ValueError, match='no labels to split'):
        make_split(str(tmp_path / 'gray'), str(tmp_path), restrict_to=str(tmp_path / 'keep.txt'))


def test_min_val_raises_a_rounded_down_split_but_keeps_one_train_stem():
    assert split_stems(stems(10), 0.05)[1] == []  # floor(10 * 0.05) = 0
    train, val = split_stems(stems(10), 0.05, min_val=1)
    assert (len(train), len(val)) == (9, 1) and sorted(train + val) == stems(10)
    assert val == split_stems(stems(10), 0.1)[1]  # the first stem of the same order
    assert [len(part) for part in split_stems(stems(2), 0.05, min_val=1)] == [1, 1]
    assert split_stems(stems(1), 0.05, min_val=1) == (stems(1), [])
    assert len(split_stems(stems(100), 0.05, min_val=1)[1]) == 5  # floor already >= 1


def labels(folder, n: int) -> None:
    folder.mkdir(parents=True)
    for stem in stems(n):
        (folder / f'{stem}.png').write_bytes(b'')


def test_small_set_gets_one_val_image(tmp_path):
    """A 10-image set at 5%: floor gives 0 val images; the split gives one, and says so."""
    labels(tmp_path / 'gray', 10)
    summary = make_split(str(tmp_path / 'gray'), str(tmp_path / 'splits'))
    assert (summary['train'], summary['val'], summary['raised_val']) == (9, 1, True)
    val = read_stems(str(tmp_path / 'splits' / 'val.txt'))
    assert len(val) == 1 and val[0] not in read_stems(str(tmp_path / 'splits' / 'train.txt'))
    assert sorted(p.name for p in (tmp_path / 'splits').iterdir()) == ['train.txt', 'val.txt']
    labels(tmp_path / 'big', 20)
    assert not make_split(str(tmp_path / 'big'), str(tmp_path / 'big_splits'))['raised_val']


def test_one_image_set_and_zero_val_ratio_are_refused(tmp_path):
    labels(tmp_path / 'gray', 1)
    with pytest.raises(ValueError, match=r"only 1 labelled image \('00001'\) in .*gray.*at "
                       'least 2, one for train.txt and one for val.txt'):
        make_split(str(tmp_path / 'gray'), str(tmp_path / 'splits'))
    assert not (tmp_path / 'splits').exists()
    with pytest.raises(ValueError, match=r'val_ratio must be in \(0, 1\).*got 0'):
        make_split(str(tmp_path / 'gray'), str(tmp_path / 'splits'), val_ratio=0)


def test_read_stems_accepts_a_byte_order_mark(tmp_path):
    path = tmp_path / 'train.txt'
    path.write_text('\ufeffP0001\nP0002\n', encoding='utf-8')
    assert read_stems(str(path)) == ['P0001', 'P0002']


@pytest.mark.parametrize('dataset_type, folders', [
    ('SOTADataset', ('images', 'gray')),
    ('Potsdam5Dataset', ('images', 'gray')),
    ('iSAID15Dataset', ('images', 'gray')),
    ('DOTADataset', ('images', 'labelTxt')),
])
def test_every_dataset_reading_split_files_names_an_empty_one(tmp_path, dataset_type, folders):
    """An empty split file (blank lines only) fails when the dataset is built, naming it."""
    init_default_scope('mmsamrs')
    for folder in folders:
        (tmp_path / folder).mkdir()
    (tmp_path / 'val.txt').write_text('\n \n')
    prefix = dict(img_path='images', seg_map_path='gray')
    if dataset_type == 'DOTADataset':
        prefix = dict(img_path='images', ann_path='labelTxt')
    with pytest.raises(ValueError, match=re.escape(
            f"{dataset_type}: split file (ann_file) {str(tmp_path / 'val.txt')!r} lists no "
            'image')):
        DATASETS.build(dict(type=dataset_type, data_root=str(tmp_path), ann_file='val.txt',
                            data_prefix=prefix, pipeline=[]))
