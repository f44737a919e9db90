"""Reproducible 95/5 splits: sizes, determinism, disjointness, DIOR-trainval restriction."""
import random

import pytest

from mmsamrs.datasets.splits import (make_split, num_val, read_stems, restrict_stems,
                                     split_stems)


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
