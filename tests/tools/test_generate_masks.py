"""End-to-end runs of tools/generate_masks.py on the real samples with a tiny random SAM."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from mmsamrs.datasets.class_names import SIOR_CLASSES, SOTA_CLASSES
from mmsamrs.testing import TINY_SAM_ARCH
from mmsamrs.testing.dota_crops import write_dota_crops

pytestmark = pytest.mark.slow  # end-to-end runs: see setup.cfg
REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'generate_masks.py'
TINY_SAM = repr(TINY_SAM_ARCH)  # a child config's arch dict needs no _delete_



def write_config(tmp_path: Path, base: str, dataset: str, loader: str = '',
                 extra: str = '') -> Path:
    """A user config inheriting ``configs/gen/<base>`` with a tiny random SAM."""
    path = tmp_path / f'test_{base}'
    path.write_text(f"""_base_ = [{str(REPO / 'configs' / 'gen' / base)!r}]
model = dict(arch={TINY_SAM}, checkpoint=None, prompt_chunk_size=8)
test_dataloader = dict({loader}dataset=dict({dataset}))
{extra}
""")
    return path


def run_tool(config: Path, work_dir: Path, *args: str, env=None, check=True):
    """Run the CLI; return the completed process."""
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(config), '--work-dir', str(work_dir), *args],
        capture_output=True, text=True, cwd=str(REPO), env=env, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def dota_fixture(realdata: Path, root: Path, crops) -> None:
    """Small DOTA-format images cut from P0706 with the objects lying inside each crop
    (``crops``: name -> (x0, y0, side, most objects))."""
    write_dota_crops(realdata / 'dota' / 'images' / 'P0706.png',
                     realdata / 'dota' / 'labelTxt' / 'P0706.txt', root,
                     [(name, *crop) for name, crop in crops.items()])


def painted_by_small_on_top(coco: COCO, image_id: int, shape) -> np.ndarray:
    """Expected label map: every mask painted, larger first (smaller on top)."""
    expected = np.full(shape, 255, dtype=np.uint8)
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
    order = sorted(range(len(anns)), key=lambda i: (-anns[i]['area'], i))
    for i in order:
        expected[coco.annToMask(anns[i]).astype(bool)] = anns[i]['category_id'] - 1
    return expected


def test_dior_real_sample(realdata, tmp_path):
    """DIOR-R 00001 (one golffield) through the default dior_hbox config, pointed at the
    sample with the data_root option alone (its layout: JPEGImages/, Annotations/Oriented
    Bounding Boxes/)."""
    config = write_config(tmp_path, 'dior_hbox.py', '')
    work = tmp_path / 'work'
    run_tool(config, work, '--cfg-options', f"data_root={realdata / 'dior'}")
    gray = np.array(Image.open(work / 'gray' / '00001.png'))
    assert gray.dtype == np.uint8 and gray.shape == (800, 800)
    assert set(np.unique(gray)) <= {SIOR_CLASSES.index('golffield'), 255}
    color = Image.open(work / 'color' / '00001.png')
    assert color.size == (800, 800)
    coco = COCO(str(work / 'instances.json'))
    (ann, ) = coco.loadAnns(coco.getAnnIds())
    assert ann['category_name'] == 'golffield' and ann['category_id'] == 10
    assert ann['bbox'] == [133, 237, 551, 435]
    mask = coco.annToMask(ann).astype(bool)
    assert mask.sum() == ann['area']
    np.testing.assert_array_equal(gray == 9, mask)
    summary = json.loads((work / 'summary.json').read_text())
    assert summary['images']['done'] == 1 and summary['images']['failed'] == 0


def test_dota_real_objects_overlaps_and_rerun_guard(realdata, tmp_path):
    """Real DOTA ships/harbours: classes, 255, small-on-top painting, COCO round trip."""
    data = tmp_path / 'dota'
    dota_fixture(realdata, data, {'harbour': (380, 220, 256, 24)})
    config = write_config(tmp_path, 'dota_hbox.py', f"data_root={str(data)!r}, version='1.0'")
    work = tmp_path / 'work'
    run_tool(config, work)
    coco = COCO(str(work / 'instances.json'))
    anns = coco.loadAnns(coco.getAnnIds())
    source = (data / 'labelTxt' / 'harbour.txt').read_text().split('\n')
    assert len(anns) == len([line for line in source if line])
    names = {a['category_name'] for a in anns}
    assert names <= {'ship', 'harbor'} and 'ship' in names
    for ann in anns:
        assert ann['category_id'] - 1 == SOTA_CLASSES.index(ann['category_name'])
        rle = ann['segmentation']
        assert mask_utils.area(rle) == ann['area']
    gray = np.array(Image.open(work / 'gray' / 'harbour.png'))
    np.testing.assert_array_equal(gray, painted_by_small_on_top(coco, 1, gray.shape))
    assert (gray == 255).any()
    # a second run into the same work dir without --resume must refuse, not overwrite
    again = run_tool(config, work, check=False)
    assert again.returncode != 0 and '--resume' in again.stderr


def test_bad_images_are_reported_and_skipped(realdata, tmp_path):
    """Bad images never stop a run: each is reported where it is found and skipped."""
    data = tmp_path / 'dota'
    crops = {name: (380, 220, 128, 5) for name in 'abd'}
    dota_fixture(realdata, data, crops)
    good_png = (data / 'images' / 'a.png').read_bytes()
    # b: header fine (size readable), pixel data truncated -> fails when decoded
    (data / 'images' / 'b.png').write_bytes(good_png[:len(good_png) // 3])
    # c: annotation without image; d: not an image at all -> dropped by the reader
    (data / 'labelTxt' / 'c.txt').write_text('1 1 9 1 9 9 1 9 ship 0\n')
    (data / 'images' / 'd.png').write_bytes(b'this is not a png')
    config = write_config(tmp_path, 'dota_hbox.py', f"data_root={str(data)!r}")
    work = tmp_path / 'work'
    proc = run_tool(config, work, check=False)
    assert proc.returncode == 1, 'an image failed: the exit status says so'
    output = proc.stdout + proc.stderr
    assert f"1 of 2 images failed (reasons in {work / 'failures.json'})" in output
    assert 'SAM has random weights' in output
    assert sorted(p.name for p in (work / 'gray').iterdir()) == ['a.png']
    failures = json.loads((work / 'failures.json').read_text())
    assert [f['img_path'] for f in failures] == [str(data / 'images' / 'b.png')]
    report = json.loads((work / 'source_report.json').read_text())
    assert report['counts']['missing_image'] == 1 and report['counts']['bad_image'] == 1
    assert {Path(p['file']).name for p in report['problems']} == {'c.txt', 'd.txt'}
    summary = json.loads((work / 'summary.json').read_text())
    assert summary['images']['done'] == 1 and summary['images']['failed'] == 1


def outputs_of(work: Path) -> dict:
    """Bytes of every final output file of a run."""
    files = {'instances.json': (work / 'instances.json').read_bytes()}
    for sub in ('gray', 'color'):
        for path in sorted((work / sub).iterdir()):
            files[f'{sub}/{path.name}'] = path.read_bytes()
    return files


def test_resume_after_sigkill_is_byte_identical(realdata, tmp_path):
    data = tmp_path / 'dota'
    dota_fixture(realdata, data, {f'crop{i}': (380 + 40 * i, 220, 160, 6) for i in range(6)})
    config = write_config(tmp_path, 'dota_hbox.py', f"data_root={str(data)!r}",
                          loader='batch_size=1, num_workers=0, ')
    reference = tmp_path / 'reference'
    run_tool(config, reference)

    work = tmp_path / 'work'
    proc = subprocess.Popen(
        [sys.executable, str(TOOL), str(config), '--work-dir', str(work)],
        cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    fragments = work / 'instances'
    while time.time() < deadline and proc.poll() is None:
        if fragments.is_dir() and len(list(fragments.glob('*.json'))) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.stem for p in fragments.glob('*.json')}
    assert 2 <= len(finished) < 6, 'the run was not interrupted mid-way'
    assert not (work / 'instances.json').exists()

    resumed = run_tool(config, work, '--resume')
    summary = json.loads((work / 'summary.json').read_text())
    assert summary['images']['skipped'] == len(finished)
    assert summary['images']['done'] == 6
    assert outputs_of(work) == outputs_of(reference)
    assert 'Traceback' not in resumed.stderr


def test_two_processes_process_each_image_exactly_once(realdata, tmp_path):
    data = tmp_path / 'dota'
    dota_fixture(realdata, data, {f'crop{i}': (380, 220 + 30 * i, 128, 3) for i in range(5)})
    extra = """custom_imports = dict(imports=['mmsamrs', 'mmsamrs.testing.generation'])
custom_hooks = [dict(type='RecordProcessedImages')]
env_cfg = dict(dist_cfg=dict(backend='gloo'))"""
    config = write_config(tmp_path, 'dota_hbox.py', f"data_root={str(data)!r}",
                          loader='num_workers=0, ', extra=extra)
    work = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         '--master_port=29517', str(TOOL), str(config), '--work-dir', str(work),
         '--launcher', 'pytorch'],
        capture_output=True, text=True, cwd=str(REPO), env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    per_rank = [(work / f'processed_rank{r}.txt').read_text().split() for r in (0, 1)]
    assert all(per_rank), 'both ranks must get work'
    processed = per_rank[0] + per_rank[1]
    assert sorted(processed) == [f'crop{i}' for i in range(5)]
    coco = COCO(str(work / 'instances.json'))
    assert len(coco.getImgIds()) == 5


def test_no_readable_image_exits_with_a_message(realdata, tmp_path):
    """Images with another suffix than the config's: exit 1 with a one-line error that says
    how many images were expected and where they were looked for, no traceback."""
    data = tmp_path / 'dota'
    dota_fixture(realdata, data, {'crop0': (380, 220, 128, 3)})
    (data / 'images' / 'crop0.png').rename(data / 'images' / 'crop0.gif')
    config = write_config(tmp_path, 'dota_hbox.py', f"data_root={str(data)!r}")
    proc = run_tool(config, tmp_path / 'work', check=False)
    assert proc.returncode == 1
    assert 'error: no image could be read: 1 images were expected' in proc.stderr
    assert str(data / 'images') in proc.stderr and 'Traceback' not in proc.stderr
