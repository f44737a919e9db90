"""The Potsdam converter on official-style zipped tiles assembled from the real crop.

The real 512 x 512 crop of tile 2_10 (mmseg's converted layout: 0 = boundary, 1-5 = the
classes) is tiled to 832 x 832, painted back into the ISPRS colours (plus a clutter block
and a block of an unknown colour) and zipped under the official names.
"""
import importlib.util
import io
import json
import runpy
import sys
import zipfile
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
from mmseg.datasets import PotsdamDataset
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from mmsamrs.datasets import Potsdam5Dataset, converters
from mmsamrs.datasets.converters import convert_potsdam, potsdam_items

REPO = Path(__file__).resolve().parents[3]
TILE = 832  # windows at 0 and 320 on each axis: 4 crops per tile
STARTS = (0, 320)
#: ISPRS colour of each value of mmseg's converted labels (0 = black: boundary / unknown).
MMSEG_COLOURS = np.array([(0, 0, 0), (255, 255, 255), (0, 0, 255), (0, 255, 255),
                          (0, 255, 0), (255, 255, 0), (255, 0, 0)], dtype=np.uint8)
CLUTTER, UNKNOWN = (slice(600, 700), slice(100, 300)), (slice(700, 710), slice(700, 720))
SPLITS = dict(train=('2_10', ), val=('2_13', ))


def tif_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format='TIFF')
    return buf.getvalue()


def make_tiles(realdata: Path):
    """Two 832 x 832 tiles (RGB, mmseg label values 0-6) from the real crop."""
    img = np.array(Image.open(realdata / 'potsdam' / 'img_dir' / '2_10_0_0_512_512.png'))
    ann = np.array(Image.open(realdata / 'potsdam' / 'ann_dir' / '2_10_0_0_512_512.png'))
    img, ann = np.tile(img, (2, 2, 1))[:TILE, :TILE], np.tile(ann, (2, 2))[:TILE, :TILE]
    ann[CLUTTER] = 6
    colour = MMSEG_COLOURS[ann]
    colour[UNKNOWN] = (12, 34, 56)
    ann[UNKNOWN] = 0  # mmseg's converter: unknown colours -> 0
    return {'2_10': (img, colour, ann), '2_13': (img[::-1].copy(), colour[::-1].copy(),
                                                ann[::-1].copy())}


@pytest.fixture(scope='module')
def tiles(realdata):
    return make_tiles(realdata)


@pytest.fixture
def src(tiles, tmp_path) -> Path:
    """The official zips: 2_Ortho_RGB.zip (in a folder) and 5_Labels_all.zip (flat)."""
    root = tmp_path / 'raw'
    root.mkdir()
    with zipfile.ZipFile(root / '2_Ortho_RGB.zip', 'w') as rgb, \
            zipfile.ZipFile(root / '5_Labels_all.zip', 'w') as labels:
        for tile, (img, colour, _) in tiles.items():
            rgb.writestr(f'2_Ortho_RGB/top_potsdam_{tile}_RGB.tif', tif_bytes(img))
            rgb.writestr(f'2_Ortho_RGB/top_potsdam_{tile}_RGBIR.tif', b'not read')
            labels.writestr(f'top_potsdam_{tile}_label.tif', tif_bytes(colour))
    return root


def expected_label(mmseg_values: np.ndarray) -> np.ndarray:
    """Ours from mmseg's converter values: boundary/unknown (0) and clutter (6) -> 255."""
    return np.where(np.isin(mmseg_values, (0, 6)), 255, mmseg_values - 1).astype(np.uint8)


def read(path: Path) -> np.ndarray:
    return np.array(Image.open(path))


def test_crops_positions_and_labels(src, tiles, tmp_path, realdata):
    out = tmp_path / 'potsdam'
    report = convert_potsdam(str(src), str(out), splits=SPLITS)
    assert report['crops'] == dict(train=4, val=4) and not report['failed']
    black = sum(int((colour == 0).all(-1).sum()) for _, colour, _ in tiles.values())
    assert report['unknown_colours'] == {'#000000': black, '#0c2238': 2 * 200}
    for split, (tile, ) in SPLITS.items():
        img, _, ann = tiles[tile]
        names = {f'{tile}_{x}_{y}_{x + 512}_{y + 512}.png' for x in STARTS for y in STARTS}
        assert {p.name for p in (out / 'img_dir' / split).iterdir()} == names
        assert {p.name for p in (out / 'ann_dir' / split).iterdir()} == names
        for x in STARTS:
            for y in STARTS:
                name = f'{tile}_{x}_{y}_{x + 512}_{y + 512}.png'
                window = np.s_[y:y + 512, x:x + 512]
                np.testing.assert_array_equal(read(out / 'img_dir' / split / name), img[window])
                label = read(out / 'ann_dir' / split / name)
                assert label.dtype == np.uint8 and set(np.unique(label)) <= {0, 1, 2, 3, 4, 255}
                np.testing.assert_array_equal(label, expected_label(ann[window]))
    # the clutter block became 255 (it is class 5 of 6 in mmseg's labels)
    assert (read(out / 'ann_dir' / 'train' / '2_10_0_320_512_832.png')[280:380, 100:300]
            == 255).all()

    # crop (0, 0) of tile 2_10 is the real crop: our dataset reads our label as mmseg's own
    # PotsdamDataset reads the real mmseg-converted one (reduce_zero_label: 0 -> 255, k -> k-1)
    real = realdata / 'potsdam'
    np.testing.assert_array_equal(read(out / 'img_dir' / 'train' / '2_10_0_0_512_512.png'),
                                  read(real / 'img_dir' / '2_10_0_0_512_512.png'))
    ours = Potsdam5Dataset(data_root=str(out), data_prefix=dict(
        img_path='img_dir/train', seg_map_path='ann_dir/train'), pipeline=[LoadAnnotations()])
    theirs = PotsdamDataset(data_root=str(real), data_prefix=dict(
        img_path='img_dir', seg_map_path='ann_dir'), pipeline=[LoadAnnotations()])
    assert len(ours) == 4 and len(theirs) == 1
    ours_00 = next(ours[i] for i in range(4) if ours[i]['img_path'].endswith('_0_0_512_512.png'))
    np.testing.assert_array_equal(ours_00['gt_seg_map'], theirs[0]['gt_seg_map'])
    assert ours.metainfo['classes'] == theirs.metainfo['classes'][:5] == (
        'impervious_surface', 'building', 'low_vegetation', 'tree', 'car')


def test_same_crops_as_mmseg_converter_except_clutter(src, tiles, tmp_path):
    """mmseg 1.2.2's converter on the extracted tiles: same names and pixels (at 832 x 832
    its windows coincide with ours), labels shifted by one, clutter a class there."""
    spec = importlib.util.spec_from_file_location('mmseg_potsdam', Path(
        importlib.util.find_spec('mmseg').origin).parent / '.mim' / 'tools' /
        'dataset_converters' / 'potsdam.py')
    mmseg_potsdam = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mmseg_potsdam)
    ours = tmp_path / 'ours'
    convert_potsdam(str(src), str(ours), splits=dict(train=('2_10', )))
    theirs = tmp_path / 'theirs'
    theirs.mkdir()
    img, colour, _ = tiles['2_10']
    args = Namespace(clip_size=512, stride_size=320)
    for suffix, array, to_label in (('RGB', img, False), ('label', colour, True)):
        path = tmp_path / f'top_potsdam_2_10_{suffix}.tif'
        path.write_bytes(tif_bytes(array))
        (theirs / suffix).mkdir()
        mmseg_potsdam.clip_big_image(str(path), str(theirs / suffix), args, to_label=to_label)
    names = sorted(p.name for p in (ours / 'ann_dir' / 'train').iterdir())
    assert sorted(p.name for p in (theirs / 'label').iterdir()) == names
    for name in names:
        np.testing.assert_array_equal(read(ours / 'img_dir' / 'train' / name),
                                      read(theirs / 'RGB' / name))
        np.testing.assert_array_equal(read(ours / 'ann_dir' / 'train' / name),
                                      expected_label(read(theirs / 'label' / name)))


def test_resume_settings_and_missing_tiles(src, tmp_path):
    out = tmp_path / 'potsdam'
    convert_potsdam(str(src), str(out), splits=SPLITS)
    crops = sorted((out / 'img_dir').rglob('*.png')) + sorted((out / 'ann_dir').rglob('*.png'))
    stamps = {p: p.stat().st_mtime_ns for p in crops}

    # a run killed while writing tile 2_13: its crop is missing -> only 2_13 is redone
    (out / 'ann_dir' / 'val' / '2_13_320_320_832_832.png').unlink()
    report = convert_potsdam(str(src), str(out), splits=SPLITS)
    assert report['images'] == dict(converted=1, resumed=1, total=2)
    assert all(p.stat().st_mtime_ns == stamps[p] for p in crops if '2_10' in p.name)
    assert (out / 'ann_dir' / 'val' / '2_13_320_320_832_832.png').is_file()
    assert not [p for p in out.rglob('*.tmp')]
    reports = sorted(out.glob('convert_report_*.json'))
    assert json.loads(reports[-1].read_text())['crops'] == dict(train=4, val=4)

    with pytest.raises(ValueError, match='other settings'):
        convert_potsdam(str(src), str(out), stride=256, splits=SPLITS)
    with pytest.raises(FileNotFoundError, match=r"lack .*\['3_10'\]"):
        convert_potsdam(str(src), str(tmp_path / 'other'), splits=dict(train=('3_10', )))


def test_tool_defaults_are_the_paper_protocol(src, monkeypatch):
    """The CLI passes 512 / 320; by default the 38 benchmark tiles are needed."""
    calls = []
    monkeypatch.setattr(converters, 'convert_potsdam',
                        lambda *args: calls.append(args) or dict(failed=[]))
    monkeypatch.setattr(sys, 'argv', ['potsdam.py', str(src)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO / 'tools' / 'dataset_converters' / 'potsdam.py'),
                       run_name='__main__')
    assert exit_info.value.code == 0
    assert calls == [(str(src), 'data/potsdam', 512, 320, 1)]
    with pytest.raises(FileNotFoundError, match='36 Potsdam tiles lack'):
        potsdam_items(str(src))
