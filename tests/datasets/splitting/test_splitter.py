"""Splitting real DOTA data and a FAIR1M scene; reading patches back; resuming."""
import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import shapely

from mmsamrs.datasets.sources import DOTADataset, FAIR1MDataset
from mmsamrs.datasets.splitting import SplitRunner, crop_patch, parse_patch_name, patch_name
from mmsamrs.utils import NothingReadError

SPLIT_512 = dict(patch_size=512, overlap=100, min_inside=0.7)
STARTS_X, STARTS_Y = (0, 412, 599), (0, 412, 670)  # P0706 is 1111 x 1182


def dota_cfg(root: Path) -> dict:
    return dict(type='DOTADataset', data_root=str(root), version='1.0', strict=True)


def output_files(out_dir: Path) -> dict:
    """Relative path -> bytes of every patch file and marker (reports excluded)."""
    return {str(p.relative_to(out_dir)): p.read_bytes() for p in sorted(out_dir.rglob('*'))
            if p.is_file() and not p.name.startswith('split_report_')}


@pytest.fixture(scope='module')
def dota_split(realdata, tmp_path_factory):
    """P0706 split into 512 px patches with 100 px overlap (once for the module)."""
    out = tmp_path_factory.mktemp('dota_512')
    report, path = SplitRunner(dota_cfg(realdata / 'dota'), str(out), SPLIT_512).run()
    return out, report, path


def test_patch_names_round_trip():
    assert patch_name('P0706', 1024, 87, 0) == 'P0706__1024__87___0'
    assert parse_patch_name('P0706__1024__87___0') == ('P0706', 1024, 87, 0)
    assert parse_patch_name(patch_name('a__b', 600, 0, 400)) == ('a__b', 600, 0, 400)
    with pytest.raises(ValueError, match='not a patch name'):
        parse_patch_name('P0706')


def test_crop_patch_pads():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    patch = crop_patch(img, 1, 0, 4, pad_value=9)
    assert patch.shape == (4, 4, 3)
    np.testing.assert_array_equal(patch[:2, :2], img[:, 1:])
    assert (patch[2:] == 9).all() and (patch[:, 2:] == 9).all()
    assert crop_patch(img[..., 0], 0, 0, 4, 0).shape == (4, 4)  # single channel


def test_real_dota_patches_and_report(realdata, dota_split):
    out, report, path = dota_split
    names = {f'P0706__512__{x}___{y}' for x in STARTS_X for y in STARTS_Y}
    assert {p.stem for p in (out / 'images').glob('*.png')} == names
    assert {p.stem for p in (out / 'labelTxt').glob('*.txt')} == names
    src = cv2.imread(str(realdata / 'dota/images/P0706.png'), cv2.IMREAD_UNCHANGED)
    for x in STARTS_X:
        for y in STARTS_Y:
            patch = cv2.imread(str(out / f'images/P0706__512__{x}___{y}.png'),
                               cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(patch, src[y:y + 512, x:x + 512])
    assert json.loads(Path(path).read_text()) == report
    assert report['images'] == dict(split=1, total=1)
    assert report['patches'] == 9 and report['failed'] == []
    assert report['source']['report']['counts']['instances'] == 536
    assert report['settings']['patch_size'] == 512


def test_reader_reads_every_patch_back(realdata, dota_split):
    out, report, _ = dota_split
    patches = DOTADataset(data_root=str(out), version='1.0', strict=True)
    assert len(patches) == 9 and not patches.report.problems
    assert patches.report.counts['instances'] == report['instances']
    for info in (patches.get_data_info(i) for i in range(len(patches))):
        assert (info['height'], info['width']) == (512, 512)
        q = np.array([inst['qbox'] for inst in info['instances']])
        assert q.min() >= 0 and q.max() <= 512


def test_rule_on_real_data(realdata, dota_split):
    """Per patch, the kept objects are exactly those with >= 70% of their area inside
    (computed here independently), with the H-Box of their clipped part; whole objects
    appear with shifted, unchanged corners."""
    out, report, _ = dota_split
    source = DOTADataset(data_root=str(realdata / 'dota'), version='1.0', strict=True)
    src = source.get_data_info(0)['instances']
    objects = [shapely.Polygon(np.reshape(i['qbox'], (4, 2))).convex_hull.intersection(
        shapely.box(0, 0, 1111, 1182)) for i in src]
    patches = DOTADataset(data_root=str(out), version='1.0', strict=True)
    by_name = {Path(d['img_path']).stem: d['instances']
               for d in (patches.get_data_info(i) for i in range(len(patches)))}
    in_some_patch = np.zeros(len(src), bool)
    whole_checked = 0
    for x in STARTS_X:
        for y in STARTS_Y:
            got = by_name[f'P0706__512__{x}___{y}']
            win = shapely.box(x, y, x + 512, y + 512)
            kept = [i for i, o in enumerate(objects) if o.intersection(win).area >= 0.7 * o.area]
            in_some_patch[kept] = True
            assert len(got) == len(kept)
            want = sorted(np.round(np.array(objects[i].intersection(win).bounds)
                                   - [x, y, x, y], 3).tolist() for i in kept)
            np.testing.assert_allclose(sorted(g['bbox'] for g in got), want, atol=1e-3)
            got_whole = {(tuple(g['qbox']), g['class_name'], g['difficult']) for g in got}
            for inst in src:
                q = np.reshape(inst['qbox'], (4, 2))
                if (q >= [x, y]).all() and (q <= [x + 512, y + 512]).all():
                    shifted = tuple((q - [x, y]).reshape(8).astype(float).tolist())
                    assert (shifted, inst['class_name'], inst['difficult']) in got_whole
                    whole_checked += 1
    assert whole_checked > 536  # overlaps put many objects wholly in several patches
    lost = [src[i]['class_name'] for i in np.flatnonzero(~in_some_patch)]
    assert report['lost'] == {name: lost.count(name) for name in set(lost)}


def test_small_image_single_padded_patch(tmp_path):
    root = tmp_path / 'src'
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    img = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    cv2.imwrite(str(root / 'images/tiny.png'), img)
    (root / 'labelTxt/tiny.txt').write_text('gsd:0.5\n10 20 60 20 60 50 10 50 plane 0\n')
    report, _ = SplitRunner(dota_cfg(root), str(tmp_path / 'out'),
                            dict(patch_size=512, overlap=100, pad_value=7)).run()
    assert report['patches'] == 1
    patch = cv2.imread(str(tmp_path / 'out/images/tiny__512__0___0.png'))
    assert patch.shape == (512, 512, 3)
    np.testing.assert_array_equal(patch[:200, :300], img)
    assert (patch[200:] == 7).all() and (patch[:, 300:] == 7).all()
    assert (tmp_path / 'out/labelTxt/tiny__512__0___0.txt').read_text() == \
        'gsd:0.5\n10 20 60 20 60 50 10 50 plane 0\n'


def write_fair1m(root: Path, img_id: str, size, objects) -> np.ndarray:
    """A FAIR1M 2.0 scene in the official XML layout; returns the image."""
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'labelXml').mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(1).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    cv2.imwrite(str(root / 'images' / f'{img_id}.tif'), img)
    objs = ''.join(
        '<object><coordinate>pixel</coordinate><type>rectangle</type><description>None'
        f'</description><possibleresult><name>{name}</name></possibleresult><points>'
        + ''.join(f'<point>{x:.6f},{y:.6f}</point>' for x, y in [*pts, pts[0]])
        + '</points></object>' for name, pts in objects)
    (root / 'labelXml' / f'{img_id}.xml').write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotation><source><filename>'
        f'{img_id}.tif</filename><origin>GF2/GF3</origin></source><research><version>2.0'
        '</version><provider>test</provider><author>test</author><pluginname>FAIR1M'
        '</pluginname><pluginclass>object detection</pluginclass><time>2021-07-21</time>'
        f'</research><size><width>{size[0]}</width><height>{size[1]}</height><depth>3'
        f'</depth></size><objects>{objs}</objects></annotation>')
    return img


FAIR1M_OBJECTS = [
    ('Boeing 737', [(50, 60), (150, 60), (150, 100), (50, 100)]),  # in (0,0) only
    ('Small Car', [(100, 550), (180, 550), (180, 620), (100, 620)]),  # cut by y=600
]


@pytest.mark.parametrize('keep_empty', [False, True])
def test_fair1m_round_trip(tmp_path, keep_empty):
    img = write_fair1m(tmp_path / 'src', '7', (1000, 800), FAIR1M_OBJECTS)
    out = tmp_path / 'out'
    report, _ = SplitRunner(
        dict(type='FAIR1MDataset', data_root=str(tmp_path / 'src')), str(out),
        dict(patch_size=600, overlap=100, keep_empty=keep_empty)).run()
    # windows x in (0, 400), y in (0, 200); objects only in the two windows at x = 0
    patches = FAIR1MDataset(data_root=str(out), strict=True)
    infos = {Path(d['img_path']).stem: d for d in
             (patches.get_data_info(i) for i in range(len(patches)))}
    expected = {'7__600__0___0', '7__600__0___200'}
    if keep_empty:
        expected |= {'7__600__400___0', '7__600__400___200'}
    assert set(infos) == expected and report['patches'] == len(expected)
    assert not patches.report.problems
    top = infos['7__600__0___0']['instances']
    # Small Car: 50 of its 70 rows (71%) are above y=600: kept and clipped.
    assert [(i['class_name'], i['qbox']) for i in top] == [
        ('Boeing737', [50, 60, 150, 60, 150, 100, 50, 100]),
        ('Small-Car', [100, 550, 180, 550, 180, 600, 100, 600])]
    bottom = infos['7__600__0___200']['instances']  # Small Car wholly inside, shifted
    assert [(i['class_name'], i['qbox']) for i in bottom] == [
        ('Small-Car', [100, 350, 180, 350, 180, 420, 100, 420])]
    for name, info in infos.items():
        _, _, x, y = parse_patch_name(name)
        patch = cv2.imread(info['img_path'])
        np.testing.assert_array_equal(patch, crop_patch(img, x, y, 600, 0))
        assert (not info['instances']) == (x == 400)


def test_fair1m_size_mismatch_is_reported(tmp_path):
    write_fair1m(tmp_path / 'src', '3', (1000, 800), FAIR1M_OBJECTS)
    xml = tmp_path / 'src/labelXml/3.xml'
    xml.write_text(xml.read_text().replace('<width>1000</width>', '<width>900</width>'))
    with pytest.raises(NothingReadError, match='1 images expected, 1 found'):
        SplitRunner(dict(type='FAIR1MDataset', data_root=str(tmp_path / 'src')),
                    str(tmp_path / 'out'), dict(patch_size=600, overlap=100)).run()
    (path, ) = (tmp_path / 'out').glob('split_report_*.json')
    report = json.loads(path.read_text())
    assert report['images'] == dict(failed=1, total=1)
    assert 'expected 900x800 pixels, found 1000x800' in report['failed'][0]['error']
    assert not (tmp_path / 'out/.split/done/3.json').exists()


@pytest.fixture
def two_scenes(realdata, tmp_path):
    """Two copies of the real DOTA scene under the ids A and B (in tmp_path)."""
    root = tmp_path / 'src'
    for sub, suffix in (('images', '.png'), ('labelTxt', '.txt')):
        (root / sub).mkdir(parents=True)
        for img_id in 'AB':
            shutil.copy(realdata / 'dota' / sub / f'P0706{suffix}',
                        root / sub / f'{img_id}{suffix}')
    return root


def test_resume_after_crash_redoes_only_the_unfinished_image(two_scenes, tmp_path,
                                                             monkeypatch):
    clean = tmp_path / 'clean'
    SplitRunner(dota_cfg(two_scenes), str(clean), SPLIT_512).run()
    out = tmp_path / 'out'
    writes = []
    real_replace = os.replace

    def crash_in_second_image(tmp, path):  # every file is written by an atomic os.replace
        writes.append(path)
        if len(writes) == 1 + 9 * 2 + 1 + 5:  # settings, A's 9 patches + marker, 5 of B
            raise KeyboardInterrupt('killed')
        real_replace(tmp, path)

    monkeypatch.setattr(os, 'replace', crash_in_second_image)
    with pytest.raises(KeyboardInterrupt):
        SplitRunner(dota_cfg(two_scenes), str(out), SPLIT_512).run()
    assert (out / '.split/done/A.json').exists() and not (out / '.split/done/B.json').exists()
    monkeypatch.setattr(os, 'replace', real_replace)
    report, _ = SplitRunner(dota_cfg(two_scenes), str(out), SPLIT_512).run()
    assert report['images'] == dict(resumed=1, split=1, total=2)
    assert report['patches'] == 18
    assert output_files(out) == output_files(clean)


def test_rerun_redoes_image_with_missing_marker_or_patch(two_scenes, tmp_path):
    out = tmp_path / 'out'
    SplitRunner(dota_cfg(two_scenes), str(out), SPLIT_512).run()
    before = output_files(out)
    inode = (out / 'labelTxt/A__512__0___0.txt').stat().st_ino
    report, _ = SplitRunner(dota_cfg(two_scenes), str(out), SPLIT_512).run()
    assert report['images'] == dict(resumed=2, total=2)
    assert report['patches'] == 18  # resumed images still count in the report
    assert (out / 'labelTxt/A__512__0___0.txt').stat().st_ino == inode  # untouched
    inode = (out / 'labelTxt/A__512__0___0.txt').stat().st_ino
    (out / '.split/done/A.json').unlink()
    (out / 'images/B__512__412___412.png').unlink()
    report, _ = SplitRunner(dota_cfg(two_scenes), str(out), SPLIT_512).run()
    assert report['images'] == dict(split=2, total=2)
    assert output_files(out) == before
    assert (out / 'labelTxt/A__512__0___0.txt').stat().st_ino != inode  # rewritten


def test_other_settings_or_id_clash_refused(two_scenes, realdata, tmp_path):
    out = tmp_path / 'out'
    SplitRunner(dota_cfg(two_scenes), str(out), SPLIT_512).run()
    with pytest.raises(ValueError, match='other settings'):
        SplitRunner(dota_cfg(two_scenes), str(out), dict(SPLIT_512, overlap=50)).run()
    other = tmp_path / 'other'
    for sub in ('images', 'labelTxt'):
        shutil.copytree(two_scenes / sub, other / sub)
    with pytest.raises(NothingReadError, match='2 images expected'):
        SplitRunner(dota_cfg(other), str(out), SPLIT_512).run()
    report = json.loads(max(out.glob('split_report_*.json')).read_text())  # the latest
    assert report['images'] == dict(failed=2, total=2)
    assert 'are taken by' in report['failed'][0]['error']


def test_parallel_matches_serial(two_scenes, tmp_path):
    serial, parallel = tmp_path / 'serial', tmp_path / 'parallel'
    SplitRunner(dota_cfg(two_scenes), str(serial), SPLIT_512).run()
    report, _ = SplitRunner(dota_cfg(two_scenes), str(parallel), SPLIT_512, nproc=2).run()
    assert report['images'] == dict(split=2, total=2)
    assert output_files(parallel) == output_files(serial)


def test_source_without_writer_refused(realdata):
    with pytest.raises(ValueError, match='patch writers exist for'):
        SplitRunner(dict(type='DIORDataset', data_root=str(realdata / 'dior')), 'unused')


def test_reader_problems_in_report(tmp_path):
    root = tmp_path / 'src'
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    cv2.imwrite(str(root / 'images/bad.png'), np.zeros((100, 100, 3), np.uint8))
    (root / 'labelTxt/bad.txt').write_text(
        '10 10 40 10 40 40 10 40 ship 0\n10 10 40 10 40 40 10 40 spaceship 0\n')
    report, _ = SplitRunner(dict(dota_cfg(root), strict=False), str(tmp_path / 'out'),
                            dict(patch_size=64, overlap=0)).run()
    assert report['source']['report']['counts']['unknown_class'] == 1
    (problem, ) = report['source']['report']['problems']
    assert problem['line'] == 2 and 'spaceship' in problem['message']
    # the good ship is split: whole in window (0, 0); only 4/30 of it in the others
    assert report['patches'] == 1 and report['instances'] == 1
