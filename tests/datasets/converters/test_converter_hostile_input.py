"""The converters on hostile and odd input: nothing readable, targets outside the output
folder, temporary files left by a killed run, an image found twice."""
import runpy
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmsamrs.datasets.converters import (CropConverter, convert_isaid, convert_potsdam,
                                         find_sources)
from mmsamrs.utils import NothingReadError

REPO = Path(__file__).resolve().parents[3]
COLOURS = {(0, 0, 0): 0, (255, 255, 255): 1}


def png(array: np.ndarray) -> bytes:
    return cv2.imencode('.png', array)[1].tobytes()


def items(tmp_path: Path, keys=('a', 'b')) -> list:
    """Loose image + label pairs of 40 x 30 pixels."""
    folder = tmp_path / 'in'
    folder.mkdir(exist_ok=True)
    result = []
    for key in keys:
        for kind in ('img', 'label'):
            (folder / f'{key}_{kind}.png').write_bytes(png(np.zeros((30, 40, 3), np.uint8)))
        result.append(dict(key=key, split='train', image=(None, str(folder / f'{key}_img.png')),
                           label=(None, str(folder / f'{key}_label.png'))))
    return result


def converter(out: Path, name_format: str = '{key}_{x0}_{y0}') -> CropConverter:
    return CropConverter(str(out), COLOURS, name_format, 32, 32, dict(dataset='test'))


def all_files(root: Path) -> set:
    return {p for p in root.rglob('*') if p.is_file()}


def test_isaid_nothing_readable_exits_1_and_says_where(tmp_path, monkeypatch):
    src = tmp_path / 'iSAID'
    for split in ('train', 'val'):
        (src / split / 'images').mkdir(parents=True)
        (src / split / 'images' / 'P0001.png').write_bytes(b'not a png')
        (src / split / 'images' / 'P0001_instance_color_RGB.png').write_bytes(b'not a png')
    out = tmp_path / 'out'
    with pytest.raises(NothingReadError) as info:
        convert_isaid(str(src), str(out), splits=('train', ))
    assert str(info.value).startswith('no image could be read: 1 images expected, looked '
                                      f"for in {src / 'train' / 'images'}; errors: ")
    assert "cannot decode" in str(info.value) and list(out.glob('convert_report_*.json'))
    monkeypatch.setattr(sys, 'argv', ['isaid.py', str(src), '-o', str(out)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO / 'tools/dataset_converters/isaid.py'), run_name='__main__')
    assert str(exit_info.value.code).startswith(
        'error: no image could be read: 2 images expected, looked for in')


def test_potsdam_nothing_readable(tmp_path):
    src = tmp_path / 'raw'
    src.mkdir()
    with zipfile.ZipFile(src / '2_Ortho_RGB.zip', 'w') as rgb:
        rgb.writestr('top_potsdam_2_10_RGB.tif', b'not a tif')
    (src / 'top_potsdam_2_10_label.tif').write_bytes(b'not a tif')
    with pytest.raises(NothingReadError, match=r'1 images expected, looked for in .*'
                       r'2_Ortho_RGB\.zip'):
        convert_potsdam(str(src), str(tmp_path / 'out'), splits=dict(train=('2_10', )))


def test_some_readable_is_no_error(tmp_path):
    pairs = items(tmp_path)
    Path(pairs[1]['image'][1]).write_bytes(b'broken')
    report = converter(tmp_path / 'out').run(pairs)
    assert report['images'] == dict(converted=1, failed=1, total=2)


@pytest.mark.parametrize('name_format', ['../{key}_{x0}', '/tmp/{key}_{x0}',
                                         '../../{key}_{x0}_{y0}'])
def test_targets_outside_the_output_folder_are_refused(tmp_path, name_format):
    out = tmp_path / 'a' / 'out'
    pairs = items(tmp_path)
    conv = converter(out, name_format)
    conv.prepare(['train'])
    before = all_files(tmp_path)
    with pytest.raises(ValueError, match='not inside the folder'):
        conv(pairs[0])
    assert all_files(tmp_path) == before
    with pytest.raises(ValueError, match='not inside the folder'):
        converter(out).crop_files('../../x', 'a')


def test_rerun_removes_stale_temporary_files(tmp_path):
    out = tmp_path / 'out'
    pairs = items(tmp_path)
    converter(out).run(pairs)
    before = {p: p.read_bytes() for p in all_files(out) if 'convert_report' not in p.name}
    stale = [out / 'img_dir' / 'train' / '.a_0_0.png.0123456789abcdef.tmp',
             out / 'ann_dir' / 'train' / '.a_0_0.png.0123456789abcdef.tmp',
             out / '.convert' / 'done' / '.a.json.0123456789abcdef.tmp',
             out / '.convert' / '.settings.json.0123456789abcdef.tmp',
             out / '.convert_report_x.json.0123456789abcdef.tmp']
    for path in stale:
        path.write_bytes(b'partial')
    report = converter(out).run(pairs)
    assert report['images'] == dict(resumed=2, total=2)
    assert not any(path.exists() for path in stale)
    assert {p: p.read_bytes() for p in all_files(out) if 'convert_report' not in p.name} \
        == before


def test_same_image_found_twice_is_refused(tmp_path):
    (tmp_path / 'x').mkdir()
    (tmp_path / 'x' / 'P0001.png').write_bytes(b'1')
    with zipfile.ZipFile(tmp_path / 'part1.zip', 'w') as archive:
        archive.writestr('images/P0001.png', b'1')
    with pytest.raises(ValueError, match=r"1 inputs found more than once .* 'P0001'"):
        find_sources(str(tmp_path), r'(P\d+)\.png')
