"""FAIR1MDataset on FAIR1M 2.0 XML written in the official format."""
import numpy as np
import pytest

from mmsamrs.datasets import FAST_CLASSES
from mmsamrs.datasets.sources import AnnotationError, FAIR1MDataset

SQUARE = [(10, 10), (30, 10), (30, 20), (10, 20)]


def test_names_points_and_boxes(files, tmp_path):
    rotated = [(100, 50), (140, 90), (120, 110), (80, 70)]
    files.write_fair1m(tmp_path, '0', files.fair1m_xml([
        ('Boeing 737', rotated), ('Boeing737', SQUARE), ('Small Car', SQUARE),
        ('Small-Car', SQUARE), ('Dry Cargo Ship', SQUARE), ('other-airplane', SQUARE),
        ('Liquid Cargo Ship', SQUARE), ('Truck Tractor', SQUARE)]))
    ds = FAIR1MDataset(data_root=str(tmp_path))
    info = ds[0]
    assert info['img_path'].endswith('images/0.tif') and info['source'] == 'fair1m'
    assert (info['width'], info['height']) == (600, 500)
    insts = info['instances']
    assert [i['class_name'] for i in insts] == [
        'Boeing737', 'Boeing737', 'Small-Car', 'Small-Car', 'Dry-Cargo-Ship',
        'other-airplane', 'Liquid-Cargo-Ship', 'Truck-Tractor']
    assert [i['bbox_label'] for i in insts] == [7, 7, 29, 29, 15, 24, 22, 33]
    first = insts[0]
    assert first['qbox'] == [100, 50, 140, 90, 120, 110, 80, 70]  # 5th point dropped
    assert first['bbox'] == [80, 50, 140, 110]
    cx, cy, w, h, angle = first['rbox']
    assert (cx, cy) == pytest.approx((110, 80), abs=1e-3)
    assert sorted((w, h)) == pytest.approx(sorted((np.hypot(40, 40), np.hypot(20, 20))),
                                           rel=1e-4)
    assert abs(abs(angle) - np.pi / 4) < 1e-3 or abs(abs(angle) - 3 * np.pi / 4) < 1e-3
    assert all(i['difficult'] == 0 for i in insts)


@pytest.mark.parametrize('name', FAST_CLASSES)
def test_every_fast_class_spaced_and_hyphenated(files, tmp_path, name):
    spaced = name if name.startswith('other-') else name.replace('-', ' ')
    files.write_fair1m(tmp_path, '1', files.fair1m_xml([(spaced, SQUARE), (name, SQUARE)]))
    insts = FAIR1MDataset(data_root=str(tmp_path))[0]['instances']
    assert [i['bbox_label'] for i in insts] == [FAST_CLASSES.index(name)] * 2


@pytest.mark.parametrize('point_xml,kind,words', [
    ('<point>1,1</point><point>5,1</point><point>5,5</point>', 'bad_fields', 'got 3'),
    ('<point>1;1</point><point>5,1</point><point>5,5</point><point>1,5</point>',
     'bad_fields', 'point 1'),
    ('<point>1,1</point><point>5,nan</point><point>5,5</point><point>1,5</point>',
     'bad_number', 'point 2'),
])
def test_bad_points(files, tmp_path, point_xml, kind, words):
    good = files.fair1m_xml([('Bus', SQUARE)])
    bad = good.replace('<objects>', '<objects><object><possibleresult><name>Van</name>'
                       f'</possibleresult><points>{point_xml}</points></object>')
    files.write_fair1m(tmp_path, '2', bad)
    with pytest.raises(AnnotationError) as info:
        FAIR1MDataset(data_root=str(tmp_path))
    assert info.value.kind == kind and '2.xml, object 1: ' in str(info.value)
    assert words in str(info.value)
    ds = FAIR1MDataset(data_root=str(tmp_path), strict=False)
    assert [i['class_name'] for i in ds[0]['instances']] == ['Bus']


def test_unknown_fine_grained_name(files, tmp_path):
    files.write_fair1m(tmp_path, '3', files.fair1m_xml([('Boeing 999', SQUARE)]))
    with pytest.raises(AnnotationError, match=r"3\.xml, object 1: unknown class name "
                       r"'Boeing 999'.*Boeing737"):
        FAIR1MDataset(data_root=str(tmp_path))


def test_size_from_image_when_xml_has_none(files, tmp_path):
    text = files.fair1m_xml([('Bus', SQUARE)]).replace(
        '<size><width>600</width><height>500</height><depth>3</depth></size>', '')
    files.write_fair1m(tmp_path, '4', text, size=(64, 48))
    info = FAIR1MDataset(data_root=str(tmp_path))[0]
    assert (info['width'], info['height']) == (64, 48)
