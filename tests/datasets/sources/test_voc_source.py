"""VOCDataset (any class list), DIOR as one instance of it, and classes of one's own in
the other readers (DOTA-format text, class_map, palettes)."""
import pytest

from mmsamrs.datasets.class_names import SOTA_CLASSES, make_palette
from mmsamrs.datasets.sources import AnnotationError, DIORDataset, DOTADataset, VOCDataset
from mmsamrs.registry import DATASETS

CLASSES = ('building', 'tree')


def test_voc_any_classes(files, tmp_path):
    files.write_dior(tmp_path, '2008_000001', files.voc_xml([
        ('Building', {'bndbox': (10, 20, 110, 220)}),
        ('tree', {'bndbox': (5, 5, 50, 60)}),
    ], size=(300, 250)))
    ds = DATASETS.build(dict(type='VOCDataset', data_root=str(tmp_path),
                             metainfo=dict(classes=CLASSES)))
    assert ds.metainfo['classes'] == CLASSES and ds.metainfo['palette'] == make_palette(2)
    info = ds[0]
    assert (info['width'], info['height'], info['source']) == (300, 250, 'voc')
    assert [(i['class_name'], i['bbox_label'], i['bbox']) for i in info['instances']] == [
        ('building', 0, [10, 20, 110, 220]), ('tree', 1, [5, 5, 50, 60])]


@pytest.mark.parametrize('obj,kind,words', [
    (('house', {'bndbox': (1, 2, 3, 4)}), 'unknown_class', "'house'"),
    (('tree', {}), 'bad_fields', '<bndbox/xmin>'),
    (('tree', {'bndbox': (1, 'x', 3, 4)}), 'bad_number', "'x'"),
    (('tree', {'bndbox': (5, 5, 5, 9)}), 'zero_area', 'zero'),
])
def test_voc_bad_object(files, tmp_path, obj, kind, words):
    good = ('tree', {'bndbox': (1, 2, 30, 40)})
    files.write_dior(tmp_path, 'v', files.voc_xml([good, obj, good]))
    with pytest.raises(AnnotationError) as info:
        VOCDataset(data_root=str(tmp_path), metainfo=dict(classes=CLASSES))
    assert (info.value.kind, info.value.obj) == (kind, 2)
    assert 'v.xml, object 2: ' in str(info.value) and words in str(info.value)
    ds = VOCDataset(data_root=str(tmp_path), metainfo=dict(classes=CLASSES), strict=False)
    assert len(ds[0]['instances']) == 2
    assert [(p.kind, p.object) for p in ds.report.problems] == [(kind, 2)]


def test_voc_needs_classes(files, tmp_path):
    files.write_dior(tmp_path, 'v', files.voc_xml([('tree', {'bndbox': (1, 2, 3, 4)})]))
    with pytest.raises(ValueError, match=r'VOCDataset: no class list'):
        VOCDataset(data_root=str(tmp_path))


def test_dior_is_a_voc_reader(files, tmp_path):
    """DIOR shares VOC's parsing and keeps its own spellings; it takes other classes too."""
    assert issubclass(DIORDataset, VOCDataset)
    files.write_dior(tmp_path, '1', files.voc_xml([('golf field', {'bndbox': (1, 2, 3, 4)}),
                                                   ('tree', {'bndbox': (1, 2, 3, 4)})]))
    ds = DIORDataset(data_root=str(tmp_path), data_prefix=dict(ann_path='Annotations'),
                     metainfo=dict(classes=('golffield', 'tree')))
    assert [(i['class_name'], i['bbox_label']) for i in ds[0]['instances']] == [
        ('golffield', 0), ('tree', 1)]


def test_dota_format_with_own_classes(files, dota_root):
    files.write_dota(dota_root, 'P1', ['imagesource:x', '10 10 30 10 30 20 10 20 Car 0',
                                       '1 1 5 1 5 5 1 5 palm_tree',
                                       '40 40 60 40 60 60 40 60 plane 0'])
    ds = DOTADataset(data_root=str(dota_root), strict=False,
                     metainfo=dict(classes=('car', 'palm-tree')))
    assert ds.metainfo['palette'] == make_palette(2)
    assert [(i['class_name'], i['bbox_label']) for i in ds[0]['instances']] == [
        ('car', 0), ('palm-tree', 1)]
    (problem, ) = ds.report.problems  # plane: a DOTA class, not one of these
    assert problem.kind == 'unknown_class' and problem.line == 4
    # the default stays SOTA with DOTA's version check
    ds = DOTADataset(data_root=str(dota_root), version='1.0', strict=False)
    assert ds.metainfo['classes'] == SOTA_CLASSES
    assert [i['class_name'] for i in ds[0]['instances']] == ['plane']


def test_class_map_merges_and_checks(files, dota_root):
    files.write_dota(dota_root, 'P1', ['10 10 30 10 30 20 10 20 car 0',
                                       '1 1 5 1 5 5 1 5 truck 0'])
    ds = DOTADataset(data_root=str(dota_root), metainfo=dict(classes=('vehicle', )),
                     class_map=dict(car='vehicle', Truck='vehicle'))
    assert [i['class_name'] for i in ds[0]['instances']] == ['vehicle', 'vehicle']
    with pytest.raises(ValueError, match=r"class_map targets \{'car': 'auto'\} are not in"):
        DOTADataset(data_root=str(dota_root), metainfo=dict(classes=('vehicle', )),
                    class_map=dict(car='auto'))


@pytest.mark.parametrize('metainfo,words', [
    (dict(classes=('a', 'a')), 'must be distinct class names'),
    (dict(classes='car'), 'must be distinct class names'),
    (dict(classes=('a', 'b'), palette=[[0, 0, 0]]), 'one colour per class (2)'),
])
def test_bad_class_lists(files, dota_root, metainfo, words):
    files.write_dota(dota_root, 'P1', ['10 10 30 10 30 20 10 20 a 0'])
    with pytest.raises(ValueError) as info:
        DOTADataset(data_root=str(dota_root), metainfo=metainfo)
    assert 'DOTADataset' in str(info.value) and words in str(info.value)
