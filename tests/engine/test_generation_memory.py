"""GenerationLoop gives the C heap's freed memory back after every batch (issue #14)."""
import platform
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mmsamrs.engine.generation_loop as generation_loop
from mmsamrs.testing import TINY_SAM_ARCH
from mmsamrs.testing.generation import run_generation
from mmsamrs.utils.memory import release_freed_memory

REPO = Path(__file__).resolve().parents[2]


def make_source(root: Path, names) -> Path:
    """64 px random images in DOTA layout, two ships each."""
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    for seed, name in enumerate(names):
        rng = np.random.default_rng(seed)
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)).save(
            root / 'images' / f'{name}.png')
        (root / 'labelTxt' / f'{name}.txt').write_text(
            '4 6 30 6 30 28 4 28 ship 0\n20 24 60 24 60 58 20 58 ship 0\n')
    return root


def gen_config(tmp_path: Path, data_root: Path) -> Path:
    """configs/gen/dota_hbox.py with a tiny random SAM, batches of 2, no workers."""
    path = tmp_path / f'gen_{uuid.uuid4().hex[:8]}.py'
    path.write_text(f"""_base_ = [{str(REPO / 'configs' / 'gen' / 'dota_hbox.py')!r}]
model = dict(arch={TINY_SAM_ARCH!r}, checkpoint=None, precision='fp32')
test_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(
    data_root={str(data_root)!r}, version='1.0'))
log_level = 'WARNING'
""")
    return path


@pytest.mark.skipif(not sys.platform.startswith('linux') or platform.libc_ver()[0] != 'glibc',
                    reason='malloc_trim is glibc only')
def test_release_calls_malloc_trim_on_glibc():
    assert release_freed_memory() is True


def test_loop_releases_memory_after_each_batch(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(generation_loop, 'release_freed_memory', lambda: calls.append(1))
    config = gen_config(tmp_path, make_source(tmp_path / 'data', 'abcde'))
    runner = run_generation(config, tmp_path / 'work')
    assert runner.test_loop.summary['images']['done'] == 5
    assert len(calls) == 3  # batches of 2, 2 and 1 images

    calls.clear()
    run_generation(config, tmp_path / 'off', **{'test_cfg.release_memory': False})
    assert calls == []
