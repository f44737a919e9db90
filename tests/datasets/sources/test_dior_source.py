"""DIORDataset on the real DIOR-R sample 00001 and on written VOC/DIOR-R XML."""
import numpy as np
import pytest

from mmsamrs.datasets import SIOR_CLASSES
from mmsamrs.datasets.sources import AnnotationError, DIORDataset


def test_real_dior_r_00001(realdata):
    ds = DIORDataset(data_root=str(realdata / 'dior'))
    assert len(ds) == 1
    info = ds[0]
    assert info['img_id'] == '00001' and info['img_path'].endswith('JPEGImages/00001.jpg')
    assert (info['width'], info['height']) == (800, 800) and info['source'] == 'dior'
    (inst, ) = info['instances']
    assert inst['class_name'] == 'golffield' and inst['bbox_label'] == 9
    assert SIOR_CLASSES.index('golffield') == 9
    assert inst['bbox'] == [133, 237, 684, 672]
    assert inst['qbox'] == [133, 237, 684, 237, 684, 672, 133, 672]
    cx, cy, w, h, angle = inst['rbox']
    assert (cx, cy) == pytest.approx((408.5, 454.5))
    assert sorted((w, h)) == pytest.approx([435, 551])
    assert abs(np.sin(2 * angle)) < 1e-6  # an axis-aligned rectangle, angle in radians
    assert inst['difficult'] == 0 and ds.metainfo['classes'] == SIOR_CLASSES


def test_horizontal_voc_xml_and_name_map(files, tmp_path):
    files.write_dior(tmp_path, '11726', files.voc_xml([
        ('Expressway-Service-area', {'bndbox': (10, 20, 110, 220)}),
        ('Expressway-toll-station', {'bndbox': (5, 5, 50, 60)}),
        ('Golffield', {'bndbox': (1, 2, 3, 4)}),
        ('airplane', {'bndbox': (700, 700, 820, 790)}),
        ('ground track field', {'bndbox': (30, 30, 60, 60)}),
    ]))
    ds = DIORDataset(data_root=str(tmp_path), data_prefix=dict(ann_path='Annotations'),
                     box_type='hbox')
    insts = ds[0]['instances']
    assert [i['class_name'] for i in insts] == [
        'expressway-service-area', 'expressway-toll-station', 'golffield', 'airplane',
        'groundtrackfield']
    assert [i['bbox_label'] for i in insts] == [6, 7, 9, 0, 10]
    assert insts[0]['bbox'] == [10, 20, 110, 220]
    assert insts[3]['bbox'] == [700, 700, 800, 790]  # clipped to the 800x800 image
    assert all('qbox' not in i and 'rbox' not in i for i in insts)


def test_auto_box_type_mixes_objects(files, tmp_path):
    quad = (100, 100, 200, 150, 180, 190, 80, 140)
    files.write_dior(tmp_path, 'm', files.voc_xml([
        ('ship', {'bndbox': (1, 1, 21, 11)}),
        ('vehicle', {'robndbox': quad}),
        ('bridge', {'bndbox': (70, 90, 210, 200), 'robndbox': quad}),
    ]))
    insts = DIORDataset(data_root=str(tmp_path),
                        data_prefix=dict(ann_path='Annotations'))[0]['instances']
    assert 'qbox' not in insts[0] and insts[0]['bbox'] == [1, 1, 21, 11]
    assert insts[1]['qbox'] == list(quad) and insts[1]['bbox'] == [80, 100, 200, 190]
    assert len(insts[1]['rbox']) == 5
    assert insts[2]['bbox'] == [70, 90, 210, 200] and insts[2]['qbox'] == list(quad)


def test_box_type_rbox_requires_robndbox(files, tmp_path):
    files.write_dior(tmp_path, 'h', files.voc_xml([
        ('ship', {'robndbox': (1, 1, 21, 1, 21, 11, 1, 11)}),
        ('ship', {'bndbox': (1, 1, 21, 11)})]))
    kw = dict(data_root=str(tmp_path), data_prefix=dict(ann_path='Annotations'),
              box_type='rbox')
    with pytest.raises(AnnotationError, match=r'h\.xml, object 2: missing or empty '
                       r'<robndbox/x_left_top>'):
        DIORDataset(**kw)
    ds = DIORDataset(strict=False, **kw)
    assert len(ds[0]['instances']) == 1 and ds.report.problems[0].object == 2


def test_bad_box_type():
    with pytest.raises(ValueError, match='box_type'):
        DIORDataset(box_type='obb', lazy_init=True)


def test_unknown_class_and_bad_number(files, tmp_path):
    files.write_dior(tmp_path, 'u', files.voc_xml([
        ('ship', {'bndbox': (1, 1, 21, 11)}),
        ('golfcart', {'bndbox': (1, 1, 21, 11)}),
        ('ship', {'bndbox': (1, 'NaN', 21, 11)})]))
    kw = dict(data_root=str(tmp_path), data_prefix=dict(ann_path='Annotations'))
    with pytest.raises(AnnotationError, match=r"u\.xml, object 2: unknown class name "
                       r"'golfcart'"):
        DIORDataset(**kw)
    ds = DIORDataset(strict=False, **kw)
    assert [p.kind for p in ds.report.problems] == ['unknown_class', 'bad_number']
    assert [p.object for p in ds.report.problems] == [2, 3]
    assert len(ds[0]['instances']) == 1


def test_split_file_selects_images(files, tmp_path):
    for img_id in ('00001', '00002', '00003'):
        files.write_dior(tmp_path, img_id, files.voc_xml([('dam', {'bndbox': (1, 1, 9, 9)})]))
    split = tmp_path / 'ImageSets' / 'Main' / 'trainval.txt'
    split.parent.mkdir(parents=True)
    split.write_text('00003\n00001\n\n')
    ds = DIORDataset(data_root=str(tmp_path), ann_file='ImageSets/Main/trainval.txt',
                     data_prefix=dict(ann_path='Annotations'))
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['00003', '00001']
    assert ds[0]['instances'][0]['bbox_label'] == SIOR_CLASSES.index('dam')
