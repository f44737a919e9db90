"""The splitter on hostile and odd input: ids that are paths, repeated ids, nothing
readable, temporary files left by a killed run."""
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmsamrs.datasets.sources import AnnotationError, DOTADataset
from mmsamrs.datasets.splitting import DOTAWriter, PatchSplitter, SplitRunner
from mmsamrs.utils import NothingReadError

SMALL = dict(patch_size=64, overlap=0)
OBJECT = '10 10 40 10 40 40 10 40 plane 0\n'


def write_scene(root: Path, img_id: str, seed: int = 0) -> None:
    """A 100 x 80 DOTA scene with one plane under ``root``."""
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'labelTxt').mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 255, (80, 100, 3), dtype=np.uint8)
    cv2.imwrite(str(root / 'images' / f'{img_id}.png'), img)
    (root / 'labelTxt' / f'{img_id}.txt').write_text(OBJECT)


def all_files(root: Path) -> set:
    return {p for p in root.rglob('*') if p.is_file()}


def outputs(out_dir: Path) -> dict:
    """Relative path -> bytes of every output file except the run reports."""
    return {str(p.relative_to(out_dir)): p.read_bytes() for p in sorted(out_dir.rglob('*'))
            if p.is_file() and not p.name.startswith('split_report_')}


def dota(root: Path, **kwargs) -> dict:
    return dict(type='DOTADataset', data_root=str(root), version='1.0', **kwargs)


@pytest.fixture
def bait(tmp_path) -> Path:
    """``tmp_path/data/src`` with the scene ``good``; what ``../bait`` and
    ``../../bait`` would read exists too, so only the id check stops them."""
    root = tmp_path / 'data' / 'src'
    write_scene(root, 'good')
    for folder in (tmp_path / 'data', tmp_path):
        write_scene(folder, 'bait', seed=1)
        shutil.copy(folder / 'labelTxt' / 'bait.txt', folder / 'bait.txt')
        shutil.copy(folder / 'images' / 'bait.png', folder / 'bait.png')
    return root


def test_path_ids_write_nothing_outside_out_dir(bait, tmp_path):
    (bait / 'split.txt').write_text(f'../bait\ngood\n../../bait\n{tmp_path}/bait\n')
    out = tmp_path / 'data' / 'out'
    clean = tmp_path / 'clean'
    SplitRunner(dota(bait, ann_file='split.txt', strict=False), str(out), SMALL).run()
    before = all_files(tmp_path) - all_files(out)
    (bait / 'split.txt').write_text('good\n')
    SplitRunner(dota(bait, ann_file='split.txt'), str(clean), SMALL).run()
    assert all_files(tmp_path) - all_files(out) - all_files(clean) == before
    assert outputs(out) == outputs(clean)  # the good image is split as in a clean run
    report = json.loads(max(out.glob('split_report_*.json')).read_text())
    problems = report['source']['report']['problems']
    assert [(p['kind'], p['line']) for p in problems] == [('bad_id', 1), ('bad_id', 3),
                                                          ('bad_id', 4)]
    assert report['images'] == dict(split=1, total=1)


def test_path_id_strict_stops_before_writing(bait, tmp_path):
    (bait / 'split.txt').write_text('good\n../bait\n')
    with pytest.raises(AnnotationError, match=r"split\.txt, line 2: image id '\.\./bait'"):
        SplitRunner(dota(bait, ann_file='split.txt'), str(tmp_path / 'out'), SMALL).run()
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('img_id', ['../../evil', '/abs/evil', '.hidden', 'a\\b'])
def test_patch_splitter_refuses_ids_that_are_not_stems(realdata, tmp_path, img_id):
    """Any dataset (not only the checked readers) gets a failed record, nothing written."""
    out = tmp_path / 'a' / 'b' / 'out'
    splitter = PatchSplitter(str(out), DOTAWriter(), 'images', 'labelTxt', '.txt',
                             keep_empty=True, **SMALL)
    splitter.prepare()
    before = all_files(tmp_path)
    record = splitter(dict(img_id=img_id, img_path=str(realdata / 'dota/images/P0706.png'),
                           height=1182, width=1111, instances=[]))
    assert record['status'] == 'failed'
    assert f"image id: {img_id!r} is not a plain file name" in record['error']
    assert all_files(tmp_path) == before


def test_repeated_ids_are_split_once(tmp_path):
    root = tmp_path / 'src'
    write_scene(root, 'a')
    write_scene(root, 'b', seed=2)
    (root / 'split.txt').write_text('a\nb\na\n')
    report, _ = SplitRunner(dota(root, ann_file='split.txt', strict=False),
                            str(tmp_path / 'out'), SMALL).run()
    assert report['images'] == dict(split=2, total=2)
    kinds = [p['kind'] for p in report['source']['report']['problems']]
    assert kinds == ['duplicate_id']
    # a dataset that is not a checked reader: its repeated entry is split once, reported
    ds = DOTADataset(data_root=str(root), version='1.0', serialize_data=False)
    ds.data_list.append(dict(ds.data_list[0]))
    report, _ = SplitRunner(ds, str(tmp_path / 'out2'), SMALL).run()
    assert report['images'] == dict(split=2, total=2)
    assert report['repeated_ids'] == [dict(img_id='a', img_path=ds.data_list[0]['img_path'],
                                           split_from=ds.data_list[0]['img_path'])]
    assert outputs(tmp_path / 'out2') == outputs(tmp_path / 'out')


def test_wrong_suffix_reads_nothing_and_says_where(tmp_path):
    root = tmp_path / 'src'
    write_scene(root, 'a')
    write_scene(root, 'b')
    out = tmp_path / 'out'
    with pytest.raises(NothingReadError) as info:
        SplitRunner(dota(root, img_suffix='.jpg', strict=False), str(out), SMALL).run()
    text = str(info.value)
    assert text.startswith('no image could be read: 2 images expected, 0 found')
    assert f"looked for in '{root / 'images'}' with the suffixes .jpg" in text
    assert list(out.glob('split_report_*.json'))  # the report is written first


def test_all_listed_images_missing_reads_nothing(tmp_path):
    root = tmp_path / 'src'
    write_scene(root, 'a')
    (root / 'split.txt').write_text('x\ny\nz\n')
    with pytest.raises(NothingReadError, match='3 images expected, 0 found'):
        SplitRunner(dota(root, ann_file='split.txt', strict=False),
                    str(tmp_path / 'out'), SMALL).run()


def test_rerun_removes_stale_temporary_files(tmp_path):
    root = tmp_path / 'src'
    write_scene(root, 'a')
    out = tmp_path / 'out'
    SplitRunner(dota(root), str(out), SMALL).run()
    before = outputs(out)
    stale = [out / 'images' / '.a__64__0___0.png.0123456789abcdef.tmp',
             out / 'labelTxt' / '.a__64__0___0.txt.0123456789abcdef.tmp',
             out / '.split' / 'done' / '.a.json.0123456789abcdef.tmp',
             out / '.split' / '.settings.json.0123456789abcdef.tmp',
             out / '.split_report_x.json.0123456789abcdef.tmp']
    for path in stale:
        path.write_bytes(b'partial')
    kept = [out / 'images' / 'notes.tmp', out / 'images' / '.keep']
    for path in kept:
        path.write_bytes(b'mine')
    report, _ = SplitRunner(dota(root), str(out), SMALL).run()
    assert report['images'] == dict(resumed=1, total=1)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    for path in kept:
        path.unlink()
    assert outputs(out) == before


def test_real_dota_with_path_and_repeated_ids(realdata, tmp_path):
    """The real scene listed twice and next to path ids: split once, as a clean run."""
    root = tmp_path / 'dota'
    shutil.copytree(realdata / 'dota', root)
    clean = tmp_path / 'clean'
    SplitRunner(dota(root), str(clean)).run()
    (root / 'split.txt').write_text('P0706\n../labelTxt/P0706\n/etc/passwd\nP0706\n')
    out = tmp_path / 'out'
    report, _ = SplitRunner(dota(root, ann_file='split.txt', strict=False), str(out)).run()
    assert report['images'] == dict(split=1, total=1) and report['patches'] == 4
    kinds = [p['kind'] for p in report['source']['report']['problems']]
    assert kinds == ['bad_id', 'bad_id', 'duplicate_id']
    assert outputs(out) == outputs(clean)
