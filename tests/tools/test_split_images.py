"""``tools/split_images.py`` on the real DOTA sample, as a user runs it."""
import json
import subprocess
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[2]


def split(*options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, 'tools/split_images.py', 'configs/split/dota_1024.py',
         '--cfg-options', *options], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_split_images_cli_with_cfg_options_and_resume(realdata, tmp_path):
    out = tmp_path / 'split'
    options = (f'data_root={realdata / "dota"}', f'out_dir={out}',
               'dataset.strict=True')
    run = split(*options)
    assert run.returncode == 0, run.stderr
    # 1111 x 1182 with 1024 windows, stride 824: x in (0, 87), y in (0, 158)
    names = {f'P0706__1024__{x}___{y}' for x in (0, 87) for y in (0, 158)}
    assert {p.stem for p in (out / 'images').iterdir()} == names
    assert {p.stem for p in (out / 'labelTxt').iterdir()} == names
    assert all(cv2.imread(str(p)).shape == (1024, 1024, 3) for p in (out / 'images').iterdir())
    assert '1 images split, 0 already done, 0 failed; 4 patches' in run.stdout
    (report_path, ) = out.glob('split_report_*.json')
    report = json.loads(report_path.read_text())
    assert report['settings']['overlap'] == 200 and report['patches'] == 4
    rerun = split(*options, 'nproc=2')
    assert rerun.returncode == 0, rerun.stderr
    assert '0 images split, 1 already done, 0 failed; 4 patches' in rerun.stdout


def test_split_images_cli_exits_1_when_no_image_is_read(realdata, tmp_path):
    run = split(f'dataset.data_root={realdata / "dota"}', f'out_dir={tmp_path / "out"}',
                'dataset.strict=False', 'dataset.img_suffix=.jpg')
    assert run.returncode == 1
    assert 'error: no image could be read: 1 images expected, 0 found by DOTADataset' \
        in run.stderr
    assert f"looked for in '{realdata / 'dota' / 'images'}' with the suffixes .jpg" in run.stderr
