"""tools/train.py and tools/test.py with each configs/sep config, tiny backbones, on CPU.

Each config trains 2 iterations on written SOTA/SIOR/FAST fixtures (validating at
iteration 2 and writing a checkpoint), resumes from it to iteration 4, and the checkpoint is
tested. The fixtures follow the configs' default layout under ``<cwd>/data`` (the tools run
in the test's folder), so the default data roots and split files are exercised as they are.
The R50 config also trains on one and on two sets chosen on the command line
(``--cfg-options samrs_sets=...``) and on a set of one's own from a child config.

The three command lines of a config run one after the other in one Python process (each
as ``__main__`` with its own ``sys.argv``, as from a shell): importing the stack costs about
10 s here, which nine separate processes would pay nine times. That process also skips
mmengine's yapf formatting of the config text it logs and stores in each checkpoint (about
2 s a time on this machine for these configs; the text stays valid Python).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from mmsamrs.testing import TINY_BACKBONES, backbone_name

pytestmark = pytest.mark.slow  # end-to-end runs: see setup.cfg
REPO = Path(__file__).resolve().parents[2]
SETS = {  # set -> (image folder under data/, image suffix, classes, image size, train images)
    'SOTA': ('DOTA/split_1024/images', '.png', 18, 96, 6),
    'SIOR': ('DIOR/JPEGImages', '.jpg', 20, 80, 3),
    'FAST': ('FAIR1M/split_600/train/images', '.png', 37, 72, 9),
}
VAL_IMAGES = 2  # per set
VAL_CROP = 64  # the configs' centre crop (512) scaled down to the fixtures
BATCH = 6  # 2 SOTA + 1 SIOR + 3 FAST by the set sizes 6/3/9

# the configs run end to end here (every configs/sep config trains one step in-process in
# test_sep_configs.py); mmsamrs.testing shrinks their backbones
CONFIGS = [f'upernet_{backbone}_8xb12-80k_samrs-224x224.py'
           for backbone in ('r50', 'swin-t', 'vit-b')]


#: a set of one's own: name, classes, palette, data root (images/, gray/, {train,val}.txt)
ROADS = dict(name='Roads', classes=('road', 'bridge', 'river'),
             palette=[[128, 64, 128], [250, 170, 30], [0, 0, 230]], data_root='data/roads')


def write_set(images: Path, labels: Path, splits: Path, stem: str, suffix: str,
              classes: int, size: int, num_train: int, rng) -> None:
    """Random images and labels (255 included) with train/val split files."""
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    stems = [f'{stem}{i:03d}' for i in range(num_train + VAL_IMAGES)]
    for stem in stems:
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
            images / f'{stem}{suffix}')
        label = rng.integers(0, classes, (size, size), dtype=np.uint8)
        label[rng.random((size, size)) < 0.2] = 255
        Image.fromarray(label).save(labels / f'{stem}.png')
    (splits / 'train.txt').write_text('\n'.join(stems[:num_train]) + '\n')
    (splits / 'val.txt').write_text('\n'.join(stems[num_train:]) + '\n')


def write_fixtures(root: Path) -> None:
    """The built-in sets in the configs' default layout, and ROADS in its own folder."""
    rng = np.random.default_rng(0)
    for name, (img_dir, suffix, classes, size, num_train) in SETS.items():
        set_dir = root / 'data' / 'SAMRS' / name
        write_set(root / 'data' / img_dir, set_dir / 'gray', set_dir, name.lower(), suffix,
                  classes, size, num_train, rng)
    roads = root / ROADS['data_root']
    write_set(roads / 'images', roads / 'gray', roads, 'road', '.png',
              len(ROADS['classes']), 64, 4, rng)


def write_config(root: Path, config: str) -> Path:
    """A user config inheriting ``configs/sep/<config>`` with a tiny backbone and 2 iters."""
    tiny = TINY_BACKBONES[backbone_name(config)]
    c1, c2, c3, c4 = tiny['channels']
    neck = f"model.update(neck={tiny['neck']!r})" if 'neck' in tiny else ''
    path = root / f'tiny_{config}'
    path.write_text(f"""_base_ = [{str(REPO / 'configs' / 'sep' / config)!r}]
randomness = dict(seed=0)
model = dict(
    backbone=dict({dict(tiny['backbone'], init_cfg=None)!r}),
    decode_head=dict(in_channels=[{c1}, {c2}, {c3}, {c4}], channels=16),
    auxiliary_head=dict(in_channels={c3}, channels=8))
{neck}
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(loader, batch_size={BATCH}, sampler=dict(batch_size={BATCH}))
# the centre crop of the configs' val pipeline, smaller
val_pipeline = [dict(t, crop_size=({VAL_CROP}, {VAL_CROP})) if t['type'] == 'CenterCrop' else t
                for t in _base_.val_pipeline]
val_dataloader = dict(loader, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    return path


DRIVER = """
import runpy, sys
import mmengine.config.config
mmengine.config.config.FormatCode = lambda text, **kwargs: (text, None)
for argv in sys.argv[1:]:
    print('==== ' + argv, flush=True)
    sys.argv = argv.split('\\t')
    runpy.run_path(sys.argv[0], run_name='__main__')
"""


def run_tools(*command_lines, cwd: Path) -> list:
    """Run the tools' command lines (``[tool, arg, ...]``) in order in one process in
    ``cwd``; return the output (stdout and stderr) of each."""
    argvs = ['\t'.join([str(REPO / 'tools' / tool), *map(str, args)])
             for tool, *args in command_lines]
    env = dict(os.environ, OMP_NUM_THREADS='1')  # 2 threads on 2 busy cores: much slower
    proc = subprocess.run([sys.executable, '-c', DRIVER, *argvs], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, cwd=str(cwd), env=env,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    outputs = proc.stdout.split('==== ')[1:]
    assert len(outputs) == len(command_lines)
    return outputs


def per_set_miou(output: str, mode: str, sets=tuple(SETS)) -> dict:
    """The last ``Iter(<mode>)`` metrics line's per-set and mean mIoU (of ``sets``)."""
    lines = [line for line in output.splitlines() if f'Iter({mode})' in line and 'mIoU' in line]
    assert lines, f'no Iter({mode}) metrics in:\n{output[-3000:]}'
    found = dict(re.findall(r'(\w+/mIoU|mIoU_mean): ([\d.]+|nan)', lines[-1]))
    assert set(found) == {*(f'{name}/mIoU' for name in sets), 'mIoU_mean'}, lines[-1]
    return {key: float(value) for key, value in found.items()}


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('sep')
    write_fixtures(root)
    return root


@pytest.mark.parametrize('config', CONFIGS)
def test_train_resume_test(config, data_dir, tmp_path):
    cfg = write_config(tmp_path, config)
    work, preds = tmp_path / 'work', tmp_path / 'preds'
    train, resume, test = run_tools(
        ['train.py', cfg, '--work-dir', work],
        ['train.py', cfg, '--work-dir', work, '--resume', '--cfg-options',
         'train_cfg.max_iters=4'],
        ['test.py', cfg, work / 'iter_4.pth', '--work-dir', tmp_path / 'test', '--out', preds],
        cwd=data_dir)

    # train: every set's loss from its own head, validation per set at iteration 2
    assert 'Iter(train) [2/2]' in train
    assert all(f'decode.loss_ce.{name}' in train for name in SETS)
    per_set_miou(train, 'val')
    assert 'per set results' in train  # the metric's Table 9-style table
    state = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert state['meta']['iter'] == 2
    assert {f'decode_head.conv_seg.{name}.weight' for name in SETS} <= set(state['state_dict'])

    # resume: from the last checkpoint (iteration 2) to iteration 4
    assert re.search(r'resumed epoch: \d+, iter: 2', resume), resume[-3000:]
    assert 'Iter(train) [3/4]' in resume and 'Iter(train) [4/4]' in resume
    assert 'Iter(train) [1/4]' not in resume
    per_set_miou(resume, 'val')
    state = torch.load(work / 'iter_4.pth', map_location='cpu', weights_only=False)
    assert state['meta']['iter'] == 4

    # test: per-set mIoU, and the predictions of the centre crops in each set's classes
    metrics = per_set_miou(test, 'test')
    assert all(0 <= value <= 100 for value in metrics.values())
    written = sorted(preds.iterdir())
    assert len(written) == VAL_IMAGES * len(SETS)
    for path in written:
        classes = {name.lower(): spec[2] for name, spec in SETS.items()}[path.stem[:4]]
        pred = np.array(Image.open(path))
        assert pred.shape == (VAL_CROP, VAL_CROP) and pred.max() < classes


def test_train_on_one_two_or_own_sets(data_dir, tmp_path):
    """samrs_sets alone picks the sets: one or two built-in sets from the command line,
    a set of one's own from a child config; heads, data, sampler and metric follow."""
    cfg = write_config(tmp_path, 'upernet_r50_8xb12-80k_samrs-224x224.py')
    own = tmp_path / 'own_set.py'
    own.write_text(f'_base_ = [{str(cfg)!r}]\nsamrs_sets = [{ROADS!r}]\n')
    runs = {('SIOR', ): ['--cfg-options', "samrs_sets=['SIOR']"],
            ('SOTA', 'FAST'): ['--cfg-options', "samrs_sets=['SOTA','FAST']"],
            ('Roads', ): []}
    outputs = run_tools(*(
        ['train.py', own if sets == ('Roads', ) else cfg, '--work-dir', tmp_path / '_'.join(sets),
         *options] for sets, options in runs.items()), cwd=data_dir)
    classes = {name: spec[2] for name, spec in SETS.items()}
    classes['Roads'] = len(ROADS['classes'])
    for sets, output in zip(runs, outputs):
        assert 'Iter(train) [2/2]' in output
        assert {name for name in classes if f'decode.loss_ce.{name}' in output} == set(sets)
        per_set_miou(output, 'val', sets)
        state = torch.load(tmp_path / '_'.join(sets) / 'iter_2.pth', map_location='cpu',
                           weights_only=False)['state_dict']
        heads = {key.split('.')[2]: value.shape[0] for key, value in state.items()
                 if key.startswith('decode_head.conv_seg.') and key.endswith('.weight')}
        assert heads == {name: classes[name] for name in sets}
    # the per-class table of the own set names its classes
    assert all(name in outputs[-1] for name in ROADS['classes'])


def test_vit_config_loads_every_key_of_a_converted_mae_checkpoint(tmp_path):
    """MAE's timm-layout weights, converted by mmseg's vit2mmseg.py, fill the ViT backbone."""
    import mmseg
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmsamrs.registry import MODELS
    dims, layers = 32, 2
    mae = {'cls_token': (1, 1, dims), 'pos_embed': (1, 197, dims),
           'patch_embed.proj.weight': (dims, 3, 16, 16), 'patch_embed.proj.bias': (dims, ),
           'norm.weight': (dims, ), 'norm.bias': (dims, )}
    for i in range(layers):
        for name, shape in {'norm1': (dims, ), 'norm2': (dims, ), 'attn.qkv': (3 * dims, dims),
                            'attn.proj': (dims, dims), 'mlp.fc1': (4 * dims, dims),
                            'mlp.fc2': (dims, 4 * dims)}.items():
            mae[f'blocks.{i}.{name}.weight'] = shape
            mae[f'blocks.{i}.{name}.bias'] = (shape[0], )
    torch.manual_seed(0)
    torch.save({'model': {k: torch.randn(shape) for k, shape in mae.items()}},
               tmp_path / 'mae.pth')
    converter = Path(mmseg.__file__).parent / '.mim/tools/model_converters/vit2mmseg.py'
    subprocess.run([sys.executable, str(converter), str(tmp_path / 'mae.pth'),
                    str(tmp_path / 'mae_mmseg.pth')], check=True, capture_output=True)
    converted = torch.load(tmp_path / 'mae_mmseg.pth', weights_only=False)

    cfg = Config.fromfile(
        str(REPO / 'configs' / 'sep' / 'upernet_vit-b_8xb12-80k_samrs-224x224.py'))
    backbone = dict(cfg.model.backbone, embed_dims=dims, num_layers=layers, num_heads=2,
                    out_indices=(1, ), init_cfg=dict(cfg.model.backbone.init_cfg,
                                                     checkpoint=str(tmp_path / 'mae_mmseg.pth')))
    init_default_scope('mmsamrs')
    vit = MODELS.build(backbone)
    vit.init_weights()
    state = vit.state_dict()
    assert set(state) == set(converted)
    assert all(torch.equal(state[key], converted[key]) for key in state)
