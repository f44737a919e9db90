"""Helpers for the source-reader tests: tiny datasets written into ``tmp_path``."""
from pathlib import Path
from typing import Iterable, Tuple

from types import SimpleNamespace

import pytest
from PIL import Image


def make_image(path: Path, size: Tuple[int, int], color=(0, 0, 0)) -> Path:
    """Write a blank RGB image of ``size`` (width, height) at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', size, color).save(path)
    return path


def write_dota(root: Path, img_id: str, lines: Iterable[str], size=(100, 80),
               image: bool = True) -> Path:
    """Write ``labelTxt/<img_id>.txt`` (and a blank ``images/<img_id>.png``) under root."""
    ann = root / 'labelTxt' / f'{img_id}.txt'
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text(''.join(line + '\n' for line in lines))
    if image:
        make_image(root / 'images' / f'{img_id}.png', size)
    return ann


def fair1m_xml(objects, size=(600, 500), filename='0.tif') -> str:
    """FAIR1M 2.0 XML (official layout) for ``objects``: (name, [(x, y) x 4]) pairs."""
    objs = []
    for name, pts in objects:
        points = ''.join(f'<point>{x:.6f},{y:.6f}</point>' for x, y in [*pts, pts[0]])
        objs.append(
            '<object><coordinate>pixel</coordinate><type>rectangle</type>'
            '<description>None</description><possibleresult>'
            f'<name>{name}</name></possibleresult><points>{points}</points></object>')
    return ('<?xml version="1.0" encoding="utf-8"?>\n<annotation><source>'
            f'<filename>{filename}</filename><origin>GF2/GF3</origin></source>'
            '<research><version>2.0</version><provider>test</provider>'
            '<author>test</author><pluginname>FAIR1M</pluginname>'
            '<pluginclass>object detection</pluginclass><time>2021-07-21</time></research>'
            f'<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>'
            f'<objects>{"".join(objs)}</objects></annotation>')


def write_fair1m(root: Path, img_id: str, text: str, size=(600, 500)) -> Path:
    """Write ``labelXml/<img_id>.xml`` and a blank ``images/<img_id>.tif`` under root."""
    ann = root / 'labelXml' / f'{img_id}.xml'
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text(text)
    make_image(root / 'images' / f'{img_id}.tif', size)
    return ann


def voc_xml(objects, size=(800, 800)) -> str:
    """DIOR VOC-style XML; each object is (name, {'bndbox': (...)} and/or 'robndbox')."""
    objs = []
    for name, boxes in objects:
        body = f'<name>{name}</name><pose>Unspecified</pose><truncated>0</truncated>' \
               '<difficult>0</difficult>'
        if 'bndbox' in boxes:
            x1, y1, x2, y2 = boxes['bndbox']
            body += (f'<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>'
                     f'<ymax>{y2}</ymax></bndbox>')
        if 'robndbox' in boxes:
            keys = [f'{a}_{c}' for c in ('left_top', 'right_top', 'right_bottom',
                                         'left_bottom') for a in ('x', 'y')]
            body += '<robndbox>' + ''.join(
                f'<{k}>{v}</{k}>' for k, v in zip(keys, boxes['robndbox'])) + '</robndbox>'
        objs.append(f'<object>{body}</object>')
    return (f'<annotation><filename>x.jpg</filename><size><width>{size[0]}</width>'
            f'<height>{size[1]}</height><depth>3</depth></size><segmented>0</segmented>'
            f'{"".join(objs)}</annotation>')


def write_dior(root: Path, img_id: str, text: str, ann_dir='Annotations',
               size=(800, 800)) -> Path:
    """Write ``<ann_dir>/<img_id>.xml`` and a blank ``JPEGImages/<img_id>.jpg``."""
    ann = root / ann_dir / f'{img_id}.xml'
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text(text)
    make_image(root / 'JPEGImages' / f'{img_id}.jpg', size)
    return ann


@pytest.fixture
def dota_root(tmp_path: Path) -> Path:
    """An empty DOTA-style root (``images/``, ``labelTxt/``) in ``tmp_path``."""
    (tmp_path / 'images').mkdir()
    (tmp_path / 'labelTxt').mkdir()
    return tmp_path


@pytest.fixture
def files() -> SimpleNamespace:
    """The file-writing helpers of this module, for the tests."""
    return SimpleNamespace(make_image=make_image, write_dota=write_dota,
                           fair1m_xml=fair1m_xml, write_fair1m=write_fair1m,
                           voc_xml=voc_xml, write_dior=write_dior)
