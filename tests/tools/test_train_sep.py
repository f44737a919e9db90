"""tools/train.py and tools/test.py with each configs/sep config, tiny backbones, on CPU.

Each config trains 2 iterations on written SOTA/SIOR/FAST fixtures (validating at
iteration 2 and writing a checkpoint), resumes from it to iteration 4, and the checkpoint is
tested. The fixtures follow the configs' default layout under ``<cwd>/data`` (the tools run
in the test's folder), so the default data roots and split files are exercised as they are.
"""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SETS = {  # set -> (image folder under data/, image suffix, classes, image size, train images)
    'SOTA': ('DOTA/split_1024/images', '.png', 18, 520, 6),
    'SIOR': ('DIOR/JPEGImages', '.jpg', 20, 530, 3),
    'FAST': ('FAIR1M/split_600/train/images', '.png', 37, 516, 9),
}
VAL_IMAGES = 2  # per set
BATCH = 6  # 2 SOTA + 1 SIOR + 3 FAST by the set sizes 6/3/9

# shrunk backbones of the same types as the configs' (with matching head widths), no
# pre-trained weights
TINY = {
    'upernet_r50_samrs.py': dict(
        backbone='depth=18, stem_channels=8, base_channels=8', channels=[8, 16, 32, 64]),
    'upernet_swin-t_samrs.py': dict(
        backbone='embed_dims=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), '
        'drop_path_rate=0.0', channels=[8, 16, 32, 64]),
    'upernet_vit-b_samrs.py': dict(
        backbone='embed_dims=16, num_layers=2, num_heads=2, out_indices=(1, ), '
        'drop_path_rate=0.0', channels=[16, 16, 16, 16],
        extra="model.update(neck=dict(in_channels=[16], out_channels=16))"),
}


def write_fixtures(root: Path) -> None:
    """Random images and labels (255 included) with train/val split files, default layout."""
    rng = np.random.default_rng(0)
    for name, (img_dir, suffix, classes, size, num_train) in SETS.items():
        images, labels = root / 'data' / img_dir, root / 'data' / 'SAMRS' / name / 'gray'
        images.mkdir(parents=True)
        labels.mkdir(parents=True)
        stems = [f'{name.lower()}{i:03d}' for i in range(num_train + VAL_IMAGES)]
        for stem in stems:
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
                images / f'{stem}{suffix}')
            label = rng.integers(0, classes, (size, size), dtype=np.uint8)
            label[rng.random((size, size)) < 0.2] = 255
            Image.fromarray(label).save(labels / f'{stem}.png')
        split = root / 'data' / 'SAMRS' / name
        (split / 'train.txt').write_text('\n'.join(stems[:num_train]) + '\n')
        (split / 'val.txt').write_text('\n'.join(stems[num_train:]) + '\n')


def write_config(root: Path, config: str) -> Path:
    """A user config inheriting ``configs/sep/<config>`` with a tiny backbone and 2 iters."""
    tiny = TINY[config]
    (c1, c2, c3, c4) = tiny['channels']
    path = root / f'tiny_{config}'
    path.write_text(f"""_base_ = [{str(REPO / 'configs' / 'sep' / config)!r}]
randomness = dict(seed=0)
model = dict(
    backbone=dict({tiny['backbone']}, init_cfg=None),
    decode_head=dict(in_channels=[{c1}, {c2}, {c3}, {c4}], channels=16),
    auxiliary_head=dict(in_channels={c3}, channels=8))
{tiny.get('extra', '')}
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(loader, batch_size={BATCH}, sampler=dict(batch_size={BATCH}))
val_dataloader = loader
test_dataloader = loader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    return path


def run(tool: str, *args: str, cwd: Path) -> str:
    """Run a tool in ``cwd``; return its stdout and stderr."""
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / tool), *args],
                          capture_output=True, text=True, cwd=str(cwd), timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    return output


def per_set_miou(output: str, mode: str) -> dict:
    """The last ``Iter(<mode>)`` metrics line's per-set and mean mIoU."""
    lines = [line for line in output.splitlines() if f'Iter({mode})' in line and 'mIoU' in line]
    assert lines, f'no Iter({mode}) metrics in:\n{output[-3000:]}'
    found = dict(re.findall(r'(\w+/mIoU|mIoU_mean): ([\d.]+|nan)', lines[-1]))
    assert set(found) == {'SOTA/mIoU', 'SIOR/mIoU', 'FAST/mIoU', 'mIoU_mean'}, lines[-1]
    return {key: float(value) for key, value in found.items()}


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('sep')
    write_fixtures(root)
    return root


@pytest.mark.parametrize('config', sorted(TINY))
def test_train_resume_test(config, data_dir, tmp_path):
    cfg = write_config(tmp_path, config)
    work = tmp_path / 'work'
    out = run('train.py', str(cfg), '--work-dir', str(work), cwd=data_dir)
    assert 'Iter(train) [2/2]' in out
    # each set's loss from its own head, the mixed batch composed as the sampler says
    assert all(f'decode.loss_ce.{name}' in out for name in SETS)
    per_set_miou(out, 'val')
    assert 'per set results' in out  # the metric's Table 9-style table
    state = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert state['meta']['iter'] == 2
    assert {k for k in state['state_dict'] if 'conv_seg' in k} >= {
        f'decode_head.conv_seg.{name}.weight' for name in SETS}

    out = run('train.py', str(cfg), '--work-dir', str(work), '--resume',
              '--cfg-options', 'train_cfg.max_iters=4', cwd=data_dir)
    assert re.search(r'resumed epoch: \d+, iter: 2', out), out[-3000:]
    assert 'Iter(train) [3/4]' in out and 'Iter(train) [4/4]' in out
    assert 'Iter(train) [1/4]' not in out
    per_set_miou(out, 'val')
    state = torch.load(work / 'iter_4.pth', map_location='cpu', weights_only=False)
    assert state['meta']['iter'] == 4

    preds = tmp_path / 'preds'
    out = run('test.py', str(cfg), str(work / 'iter_4.pth'), '--work-dir',
              str(tmp_path / 'test'), '--out', str(preds), cwd=data_dir)
    metrics = per_set_miou(out, 'test')
    assert all(0 <= value <= 100 for value in metrics.values())
    # predictions of the centre 512x512 crops, each in its own set's class indices
    written = sorted(preds.iterdir())
    assert len(written) == VAL_IMAGES * len(SETS)
    for path in written:
        pred = np.array(Image.open(path))
        name = {n.lower(): n for n in SETS}[path.stem[:4]]
        assert pred.shape == (512, 512) and pred.max() < SETS[name][2]
