"""Patch annotation writers: DOTA labelTxt lines and FAIR1M XML."""
import xml.etree.ElementTree as ET

from mmsamrs.datasets.splitting import DOTAWriter, FAIR1MWriter
from mmsamrs.datasets.splitting.writers import format_coord

INSTANCES = [
    dict(qbox=[1, 2, 30.5, 2, 30.5, 40.25, 1, 40.25], class_name='ship', difficult=1),
    dict(qbox=[10, 10, 20.1234, 10, 20.1234, 20, 10, 20], class_name='harbor', difficult=0),
]


def test_dota_lines_and_header():
    text = DOTAWriter().dumps('P1__1024__0___0.png', 1024, 1024, 3, INSTANCES,
                              dict(imagesource='GoogleEarth', gsd=0.25))
    assert text.splitlines() == [
        'imagesource:GoogleEarth', 'gsd:0.25',
        '1 2 30.5 2 30.5 40.25 1 40.25 ship 1',
        '10 10 20.123 10 20.123 20 10 20 harbor 0',
    ]
    assert DOTAWriter().dumps('x.png', 8, 8, 3, [], {}) == ''
    assert format_coord(-1e-12) == '0' and format_coord(511.99951) == '512'


def test_fair1m_xml_layout():
    text = FAIR1MWriter().dumps('7__600__0___400.png', 600, 600, 3, INSTANCES[:1], {})
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
    root = ET.fromstring(text)
    assert root.tag == 'annotation'
    assert root.findtext('source/filename') == '7__600__0___400.png'
    assert [root.findtext(f'size/{k}') for k in ('width', 'height', 'depth')] == [
        '600', '600', '3']
    (obj, ) = root.findall('objects/object')
    assert obj.findtext('coordinate') == 'pixel'
    assert obj.findtext('type') == 'rectangle'
    assert obj.findtext('possibleresult/name') == 'ship'
    assert [p.text for p in obj.findall('points/point')] == [
        '1.000000,2.000000', '30.500000,2.000000', '30.500000,40.250000',
        '1.000000,40.250000', '1.000000,2.000000']
