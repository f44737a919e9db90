"""The iSAID converter on a written fixture in the official download's layout.

``train/`` is zipped (``images/part1.zip``, ``Semantic_masks/images.zip``, with an instance
mask that must not be read), ``val/`` is extracted. Images are smaller or larger than a
crop, masks hold the official class colours, background and an unknown colour.
"""
import importlib.util
import runpy
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from mmseg.datasets import iSAIDDataset
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from mmsamrs.datasets import iSAID15Dataset
from mmsamrs.datasets.converters import convert_isaid, isaid_items

REPO = Path(__file__).resolve().parents[3]
PALETTE = iSAIDDataset.METAINFO['palette']  # 0: background, 1-15: the classes
SIZES = dict(P0001=(700, 1000), P0002=(500, 600), P0003=(1000, 1000))  # (h, w)
SPLIT = dict(P0001='train', P0002='train', P0003='val')
#: crop names (y0, y1, x0, x1): P0001 is cut at x = 0 and 104 (1000 - 896), padded in
#: height; P0002 is one padded crop
CROPS = dict(P0001=[(0, 0), (0, 104)], P0002=[(0, 0)],
             P0003=[(0, 0), (0, 104), (104, 0), (104, 104)])
UNKNOWN = (12, 34, 56)


def png(array: np.ndarray) -> bytes:
    """PNG bytes of an RGB image."""
    return cv2.imencode('.png', np.ascontiguousarray(array[..., ::-1]))[1].tobytes()


def make_pair(key: str):
    """A smooth RGB image and its mmseg-valued (0-15) mask painted in the iSAID colours."""
    h, w = SIZES[key]
    yy, xx = np.mgrid[:h, :w]
    img = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    values = np.zeros((h, w), dtype=np.uint8)
    for cls in range(1, 16):  # a block of every class, some across crop borders
        y, x = (cls * 37) % (h - 60), (cls * 131) % (w - 90)
        values[y:y + 60, x:x + 90] = cls
    colour = np.array(PALETTE, dtype=np.uint8)[values]
    colour[5:9, 5:30] = UNKNOWN
    values[5:9, 5:30] = 0  # mmseg's converter: unknown colours -> background
    return img, colour, values


@pytest.fixture(scope='module')
def pairs():
    return {key: make_pair(key) for key in SIZES}


@pytest.fixture
def src(pairs, tmp_path) -> Path:
    root = tmp_path / 'iSAID'
    (root / 'train' / 'images').mkdir(parents=True)
    (root / 'train' / 'Semantic_masks').mkdir(parents=True)
    with zipfile.ZipFile(root / 'train' / 'images' / 'part1.zip', 'w') as images, \
            zipfile.ZipFile(root / 'train' / 'Semantic_masks' / 'images.zip', 'w') as masks:
        for key in ('P0001', 'P0002'):
            img, colour, _ = pairs[key]
            images.writestr(f'images/{key}.png', png(img))
            masks.writestr(f'images/{key}_instance_color_RGB.png', png(colour))
            masks.writestr(f'images/{key}_instance_id_RGB.png', b'not read')
    img, colour, _ = pairs['P0003']
    for sub, name, array in (('images/images', 'P0003.png', img),
                             ('Semantic_masks/images', 'P0003_instance_color_RGB.png', colour)):
        (root / 'val' / sub).mkdir(parents=True)
        (root / 'val' / sub / name).write_bytes(png(array))
    return root


def read(path: Path) -> np.ndarray:
    return np.array(Image.open(path).convert('RGB') if 'img_dir' in str(path)
                    else Image.open(path))


def ours_from_mmseg(values: np.ndarray) -> np.ndarray:
    """mmseg's label values -> ours: background (0) and padding (255) -> 255, k -> k - 1."""
    return np.where(np.isin(values, (0, 255)), 255, values - 1).astype(np.uint8)


def test_crops_names_padding_and_labels(src, pairs, tmp_path):
    out = tmp_path / 'out'
    report = convert_isaid(str(src), str(out))
    assert report['crops'] == dict(train=3, val=4) and not report['failed']
    assert report['unknown_colours'] == {'#0c2238': 3 * 100}
    for key, starts in CROPS.items():
        img, _, values = pairs[key]
        h, w = SIZES[key]
        padded_img = np.zeros((max(h, 896), max(w, 896), 3), np.uint8)
        padded_img[:h, :w] = img
        padded = np.full((max(h, 896), max(w, 896)), 255, np.uint8)
        padded[:h, :w] = values
        for y, x in starts:
            name = f'{key}_{y}_{y + 896}_{x}_{x + 896}.png'
            window = np.s_[y:y + 896, x:x + 896]
            np.testing.assert_array_equal(read(out / 'img_dir' / SPLIT[key] / name),
                                          padded_img[window])
            label = read(out / 'ann_dir' / SPLIT[key] / name)
            assert label.shape == (896, 896) and label.max() == 255
            np.testing.assert_array_equal(label, ours_from_mmseg(padded[window]))
    assert sorted(p.name for p in (out / 'img_dir' / 'train').iterdir()) == [
        'P0001_0_896_0_896.png', 'P0001_0_896_104_1000.png', 'P0002_0_896_0_896.png']

    # our dataset reads them (15 classes); mmseg's iSAIDDataset looks for mmseg's label names
    # and so fails loudly instead of reading background-free labels as its 16 classes
    prefix = dict(img_path='img_dir/val', seg_map_path='ann_dir/val')
    ours = iSAID15Dataset(data_root=str(out), data_prefix=prefix, pipeline=[LoadAnnotations()])
    assert len(ours) == 4 and ours.metainfo['classes'][0] == 'ship'
    assert ours.metainfo['classes'] == iSAIDDataset.METAINFO['classes'][1:]
    assert set(np.unique(ours[3]['gt_seg_map'])) <= set(range(15)) | {255}
    with pytest.raises(FileNotFoundError):
        iSAIDDataset(data_root=str(out), data_prefix=prefix, pipeline=[LoadAnnotations()])[0]


def test_same_crops_as_mmseg_converter_except_background(src, tmp_path, monkeypatch):
    """mmseg 1.2.2's slide_crop_image/label on the extracted files: same windows and names,
    same pixels (its images are BMP data in .png files), labels shifted by one.

    Its labels go through ``Image.fromarray(label, mode='P')``, which Pillow 13 saves with
    too few bits per pixel (values > 1 become 1); the test lets it save them as 'L'.
    """
    spec = importlib.util.spec_from_file_location('mmseg_isaid', Path(
        importlib.util.find_spec('mmseg').origin).parent / '.mim' / 'tools' /
        'dataset_converters' / 'isaid.py')
    mmseg_isaid = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mmseg_isaid)
    monkeypatch.setattr(mmseg_isaid, 'Image', SimpleNamespace(
        open=Image.open, fromarray=lambda array, mode=None: Image.fromarray(array)))
    ours = tmp_path / 'ours'
    convert_isaid(str(src), str(ours))
    theirs = tmp_path / 'theirs'
    for sub in ('img_dir', 'ann_dir'):
        (theirs / sub / 'train').mkdir(parents=True)
    with zipfile.ZipFile(src / 'train' / 'images' / 'part1.zip') as images, \
            zipfile.ZipFile(src / 'train' / 'Semantic_masks' / 'images.zip') as masks:
        images.extractall(tmp_path / 'x')
        masks.extractall(tmp_path / 'x')
    for key in ('P0001', 'P0002'):
        args = (str(theirs), 'train', 896, 896, 384)
        mmseg_isaid.slide_crop_image(str(tmp_path / 'x' / 'images' / f'{key}.png'), *args)
        mmseg_isaid.slide_crop_label(
            str(tmp_path / 'x' / 'images' / f'{key}_instance_color_RGB.png'), *args)
    names = sorted(p.name for p in (ours / 'img_dir' / 'train').iterdir())
    assert sorted(p.name for p in (theirs / 'img_dir' / 'train').iterdir()) == names
    assert sorted(p.name for p in (theirs / 'ann_dir' / 'train').iterdir()) == [
        name.replace('.png', '_instance_color_RGB.png') for name in names]
    for name in names:
        np.testing.assert_array_equal(read(ours / 'img_dir' / 'train' / name),
                                      read(theirs / 'img_dir' / 'train' / name))
        their_label = read(theirs / 'ann_dir' / 'train' /
                           name.replace('.png', '_instance_color_RGB.png'))
        np.testing.assert_array_equal(read(ours / 'ann_dir' / 'train' / name),
                                      ours_from_mmseg(their_label))


def test_tool_failures_resume_and_unpaired(src, pairs, tmp_path, monkeypatch):
    """The CLI (2 processes): a pair of mismatched sizes fails (exit 1), the rest is kept;
    the fixed rerun converts only that pair."""
    img, colour, _ = pairs['P0003']
    (src / 'val' / 'images' / 'images' / 'P0004.png').write_bytes(png(img))
    bad = src / 'val' / 'Semantic_masks' / 'images' / 'P0004_instance_color_RGB.png'
    bad.write_bytes(png(colour[:-1]))
    out = tmp_path / 'out'
    tool = str(REPO / 'tools' / 'dataset_converters' / 'isaid.py')
    monkeypatch.setattr(sys, 'argv', ['isaid.py', str(src), '-o', str(out), '--nproc', '2'])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(tool, run_name='__main__')
    assert exit_info.value.code == 1
    assert not list((out / 'img_dir' / 'val').glob('P0004_*'))
    assert len(list((out / 'img_dir' / 'val').iterdir())) == 4

    bad.write_bytes(png(colour))
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(tool, run_name='__main__')
    assert exit_info.value.code == 0
    assert len(list((out / 'img_dir' / 'val').glob('P0004_*'))) == 4

    bad.unlink()
    with pytest.raises(FileNotFoundError, match=r"unpaired: \['P0004'\]"):
        isaid_items(str(src))
