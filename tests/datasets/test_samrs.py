"""SOTA/SIOR/FAST datasets on fixtures in our generator's layout and the public release's."""
import itertools
import json
import re
from pathlib import Path
from typing import Dict, Sequence

import numpy as np
import pytest
from mmengine.dataset import ConcatDataset
from mmengine.registry import init_default_scope
from PIL import Image

from mmsamrs.datasets import (FASTDataset, ProportionalMultiSourceSampler, SIORDataset,
                              SOTADataset)
from mmsamrs.datasets.class_names import FAST_CLASSES, SIOR_CLASSES, SOTA_CLASSES
from mmsamrs.datasets.samrs import META_KEYS
from mmsamrs.datasets.samrs_sets import resolve_set, resolve_sets, set_heads
from mmsamrs.datasets.split_files import make_split
from mmsamrs.generation import SAMRSLabelWriter
from mmsamrs.registry import DATASETS

H, W = 4, 6


@pytest.fixture(autouse=True)
def mmsamrs_scope() -> None:
    """Configs run with default_scope='mmsamrs': pipelines find mmseg's transforms."""
    init_default_scope('mmsamrs')


def pipeline(meta_keys: Sequence[str] = META_KEYS) -> list:
    return [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs', meta_keys=tuple(meta_keys))]


def write_image(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((H, W, 3), value, dtype=np.uint8)).save(path)


def write_label(path: Path, label: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(label.astype(np.uint8), mode='L').save(path)


def generate(out_dir: Path, src_root: Path, classes, objects: Dict[str, list]) -> None:
    """Write labels with the real generation writer: per stem, (label, x0, y0, mask) objects."""
    writer = SAMRSLabelWriter(str(out_dir), classes, [[1, 2, 3]] * len(classes),
                              img_root=str(src_root))
    for value, (stem, objs) in enumerate(objects.items()):
        img_path = src_root / 'images' / f'{stem}.png'
        write_image(img_path, 10 * value)
        writer.write(dict(
            img_id=stem, img_path=str(img_path), ori_shape=(H, W), error=None,
            labels=[o[0] for o in objs], scores=[0.9] * len(objs),
            hboxes=[[o[1], o[2], o[1] + o[3].shape[1], o[2] + o[3].shape[0]] for o in objs],
            mask_crops=[o[3] for o in objs], mask_offsets=[o[1:3] for o in objs]))
    writer.finalize()


@pytest.mark.parametrize('cls, classes, name', [(SOTADataset, SOTA_CLASSES, 'SOTA'),
                                                (SIORDataset, SIOR_CLASSES, 'SIOR'),
                                                (FASTDataset, FAST_CLASSES, 'FAST')])
def test_metainfo_has_official_classes_palette_and_name(cls, classes, name):
    meta = cls.METAINFO
    assert len(meta['classes']) == {'SOTA': 18, 'SIOR': 20, 'FAST': 37}[name]
    assert meta['classes'] == classes and meta['dataset_name'] == name
    assert len(meta['palette']) == len(classes)
    assert len({tuple(c) for c in meta['palette']}) == len(classes)


def test_spec_order_of_first_and_last_classes():
    assert (SOTA_CLASSES[0], SOTA_CLASSES[4], SOTA_CLASSES[-1]) == ('large-vehicle', 'plane',
                                                                     'helipad')
    assert (SIOR_CLASSES[0], SIOR_CLASSES[-1]) == ('airplane', 'windmill')
    assert (FAST_CLASSES[0], FAST_CLASSES[24], FAST_CLASSES[-1]) == ('A220', 'other-airplane',
                                                                     'Warship')


def test_our_generator_layout_through_pipeline(tmp_path):
    src, out = tmp_path / 'data' / 'split_1024', tmp_path / 'work' / 'gen_dota'
    big = np.ones((2, 4), dtype=bool)  # class 17 (helipad) at x 0..3, y 0..1
    small = np.ones((2, 2), dtype=bool)  # class 0 (large-vehicle) at x 4..5, y 2..3
    generate(out, src, SOTA_CLASSES, {'P0001__1024__0___0': [(17, 0, 0, big), (0, 4, 2, small)],
                                      'P0002__1024__0___0': []})
    file_name = json.loads((out / 'instances.json').read_text())['images'][0]['file_name']
    assert file_name == 'images/P0001__1024__0___0.png'  # relative to the source root

    dataset = DATASETS.build(dict(
        type='SOTADataset', data_root=str(out),
        data_prefix=dict(img_path=str(src / 'images'), seg_map_path='gray'),
        pipeline=pipeline()))
    assert len(dataset) == 2 and dataset.metainfo['dataset_name'] == 'SOTA'
    assert dataset.metainfo['classes'] == SOTA_CLASSES
    info = dataset.get_data_info(0)
    assert info['img_path'] == str(src / 'images' / 'P0001__1024__0___0.png')
    assert info['seg_map_path'] == str(out / 'gray' / 'P0001__1024__0___0.png')

    sample = dataset[0]['data_samples']
    expected = np.full((H, W), 255)
    expected[0:2, 0:4] = 17
    expected[2:4, 4:6] = 0
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), expected)
    assert sample.metainfo['dataset_name'] == 'SOTA'
    empty = dataset[1]['data_samples'].gt_sem_seg.data
    assert (empty == 255).all()  # an image without objects: all "no label", kept as 255


def public_sior(root: Path) -> Path:
    """The official code's SIOR folder: JPEGImages-trainval, labels gray, train/valid.txt."""
    dior = root / 'dior'
    for value, stem in enumerate(['00001', '00002', '00003', '11726']):
        write_image(dior / 'JPEGImages-trainval' / f'{stem}.jpg', 40 * value)
        label = np.full((H, W), 255)
        label[1, :] = value  # row 1 holds the class of the image (0..3)
        label[3, 5] = 19  # windmill
        write_label(dior / 'hbox_segs_trainvaltest_init' / 'gray' / f'{stem}.png', label)
    (dior / 'train.txt').write_text('00001\n00003\n')
    (dior / 'valid.txt').write_text('00002\n')
    return dior


def test_public_release_layout_with_split_files(tmp_path):
    dior = public_sior(tmp_path)
    prefix = dict(img_path='JPEGImages-trainval', seg_map_path='hbox_segs_trainvaltest_init/gray')
    train = SIORDataset(data_root=str(dior), ann_file='train.txt', data_prefix=prefix,
                        pipeline=pipeline())
    valid = SIORDataset(data_root=str(dior), ann_file='valid.txt', data_prefix=prefix,
                        pipeline=pipeline())
    def names(dataset):
        return [Path(dataset.get_data_info(i)['img_path']).name for i in range(len(dataset))]

    assert names(train) == ['00001.jpg', '00003.jpg'] and names(valid) == ['00002.jpg']
    out = train[1]
    labels = out['data_samples'].gt_sem_seg.data[0].numpy()
    assert labels[1].tolist() == [2] * W and labels[3, 5] == 19 and labels[0, 0] == 255
    assert out['inputs'].shape == (3, H, W)
    assert out['data_samples'].metainfo['dataset_name'] == 'SIOR'
    every = SIORDataset(data_root=str(dior), data_prefix=prefix, pipeline=pipeline())
    assert len(every) == 4  # no split file: every image of the folder


def test_image_suffix_preference(tmp_path):
    for suffix in ('.png', '.jpg'):
        write_image(tmp_path / 'images' / f'a{suffix}', 0)
    write_label(tmp_path / 'gray' / 'a.png', np.zeros((H, W)))
    default = FASTDataset(data_root=str(tmp_path), pipeline=pipeline())
    jpg = FASTDataset(data_root=str(tmp_path), img_suffix='.jpg', pipeline=pipeline())
    assert default.get_data_info(0)['img_path'].endswith('a.png')
    assert jpg.get_data_info(0)['img_path'].endswith('a.jpg')


def test_missing_label_error_names_images_and_folder(tmp_path):
    for stem in ('a', 'b', 'c'):
        write_image(tmp_path / 'images' / f'{stem}.png', 0)
    write_label(tmp_path / 'gray' / 'b.png', np.zeros((H, W)))
    with pytest.raises(FileNotFoundError) as err:
        SOTADataset(data_root=str(tmp_path), pipeline=pipeline())
    message = str(err.value)
    assert "SOTADataset: 2 of 3 images of folder" in message
    assert "'a', 'c'" in message and str(tmp_path / 'gray') in message
    assert 'failures.json' in message


def test_split_stem_without_image_and_missing_folders(tmp_path):
    write_image(tmp_path / 'images' / 'a.png', 0)
    write_label(tmp_path / 'gray' / 'a.png', np.zeros((H, W)))
    (tmp_path / 'train.txt').write_text('a\nzz\n')
    with pytest.raises(FileNotFoundError, match=r"1 of 2 images of split file .* no image.*'zz'"):
        SOTADataset(data_root=str(tmp_path), ann_file='train.txt', pipeline=pipeline())
    with pytest.raises(FileNotFoundError) as err:
        SOTADataset(data_root=str(tmp_path), ann_file='val.txt',
                    data_prefix=dict(seg_map_path='labels'), pipeline=pipeline())
    message = str(err.value)
    assert f"data_prefix['seg_map_path'] folder {str(tmp_path / 'labels')!r}" in message
    assert f"split file (ann_file) {str(tmp_path / 'val.txt')!r}" in message
    assert "'img_path'" not in message


def test_small_set_split_has_val_data_and_an_empty_split_file_is_named(tmp_path):
    for i in range(10):  # the 10-image set that make_splits once left without val data
        write_image(tmp_path / 'images' / f'{i:02d}.png', i)
        write_label(tmp_path / 'gray' / f'{i:02d}.png', np.zeros((H, W)))
    make_split(str(tmp_path / 'gray'), str(tmp_path))
    val = SOTADataset(data_root=str(tmp_path), ann_file='val.txt', test_mode=True,
                      pipeline=pipeline())
    assert len(val) == 1 and val[0]['data_samples'].gt_sem_seg.data.shape == (1, H, W)
    (tmp_path / 'val.txt').write_text('\n')
    with pytest.raises(ValueError, match=f"SOTADataset: split file \\(ann_file\\) "
                       f"{re.escape(repr(str(tmp_path / 'val.txt')))} lists no image"):
        SOTADataset(data_root=str(tmp_path), ann_file='val.txt', pipeline=pipeline())


def test_pack_without_dataset_name_and_label_remapping_are_refused(tmp_path):
    write_image(tmp_path / 'images' / 'a.png', 0)
    write_label(tmp_path / 'gray' / 'a.png', np.zeros((H, W)))
    default_pack = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
    with pytest.raises(ValueError, match="meta_keys=.*'dataset_name'"):
        SOTADataset(data_root=str(tmp_path), pipeline=default_pack)
    with pytest.raises(ValueError, match='reduce_zero_label=False'):
        SOTADataset(data_root=str(tmp_path), reduce_zero_label=True)


def test_concat_of_the_three_sets_keeps_each_name(tmp_path):
    sets = []
    for cls in (SOTADataset, SIORDataset, FASTDataset):
        root = tmp_path / cls.__name__
        write_image(root / 'images' / 'x.png', 0)
        write_label(root / 'gray' / 'x.png', np.zeros((H, W)))
        sets.append(cls(data_root=str(root), pipeline=pipeline()))
    with pytest.raises(ValueError, match='does not match'):
        ConcatDataset(sets)
    concat = ConcatDataset(sets, ignore_keys=['classes', 'palette', 'dataset_name'])
    names = [concat[i]['data_samples'].metainfo['dataset_name'] for i in range(3)]
    assert names == ['SOTA', 'SIOR', 'FAST']


def write_set(images: Path, labels: Path, stems: Sequence[str], value: int) -> None:
    """One image and one label (all ``value``) per stem."""
    for stem in stems:
        write_image(images / f'{stem}.png', value)
        write_label(labels / f'{stem}.png', np.full((H, W), value))


def test_multi_set_dataset_of_a_built_in_and_an_own_set(tmp_path, monkeypatch):
    data, roads = tmp_path / 'data', tmp_path / 'roads'
    write_set(data / 'DIOR' / 'JPEGImages', data / 'SAMRS' / 'SIOR' / 'gray', ['a', 'b'], 3)
    (data / 'SAMRS' / 'SIOR' / 'train.txt').write_text('a\nb\n')
    write_set(roads / 'images', roads / 'gray', ['r1', 'r2', 'r3'], 1)
    (roads / 'train.txt').write_text('r3\nr1\n')
    monkeypatch.chdir(tmp_path)
    Path('Roads').write_text('not a class list\n')  # a set name is never read as a file
    own = dict(name='Roads', classes=('road', 'bridge'), data_root=str(roads))
    dataset = DATASETS.build(dict(type='SAMRSMultiSetDataset', sets=['SIOR', own],
                                  split='train', data_root=str(data), pipeline=pipeline()))
    assert [len(d) for d in dataset.datasets] == [2, 2]
    names = [dataset[i]['data_samples'].metainfo['dataset_name'] for i in range(4)]
    assert names == ['SIOR', 'SIOR', 'Roads', 'Roads']
    assert Path(dataset.get_data_info(2)['img_path']) == roads / 'images' / 'r3.png'
    assert dataset[0]['data_samples'].gt_sem_seg.data.unique().tolist() == [3]
    sets = dataset.metainfo['sets']
    assert list(sets) == ['SIOR', 'Roads'] and sets['SIOR']['classes'] == SIOR_CLASSES
    assert sets['Roads']['classes'] == ('road', 'bridge') and len(sets['Roads']['palette']) == 2
    assert dataset.datasets[1].metainfo['classes'] == ('road', 'bridge')
    sampler = ProportionalMultiSourceSampler(dataset, batch_size=2, seed=0)
    batch = list(itertools.islice(iter(sampler), 2))
    assert [dataset.get_data_info(i)['dataset_name'] for i in batch] == ['SIOR', 'Roads']


def test_set_specs_are_checked():
    sota = resolve_set('SOTA', 'data')
    assert sota['classes'] == SOTA_CLASSES and sota['ann_file'] == 'SAMRS/SOTA/{split}.txt'
    assert sota['img_path'] == 'DOTA/split_1024/images' and sota['data_root'] == 'data'
    moved = resolve_set(dict(name='FAST', data_root='/disk', img_path='img'))
    assert (moved['data_root'], moved['img_path'], moved['classes']) == ('/disk', 'img',
                                                                         FAST_CLASSES)
    own = dict(name='X', classes=['a', 'b', 'c'], data_root='x')
    assert set_heads(['SIOR', own]) == dict(SIOR=20, X=3)
    with pytest.raises(ValueError, match='list of class names'):
        resolve_set(dict(own, classes='road'))
    with pytest.raises(ValueError, match=r"'Roads' is not built-in .*classes and data_root"):
        resolve_set('Roads')
    with pytest.raises(ValueError, match=r"unknown: \['root'\]"):
        resolve_set(dict(name='SOTA', root='x'))
    with pytest.raises(ValueError, match='1 palette colours for 2 classes'):
        resolve_set(dict(name='X', classes=('a', 'b'), palette=[[1, 2, 3]], data_root='x'))
    with pytest.raises(ValueError, match=r"more than once: \['SIOR'\]"):
        resolve_sets(['SIOR', 'SOTA', 'SIOR'])
    for bad in ([], 'SOTA'):
        with pytest.raises(ValueError, match='non-empty list'):
            resolve_sets(bad)
