"""Every configs/finetune config: builds, starts from an exported SEP checkpoint, trains.

Per backbone, a tiny SEP model is built from its configs/sep config (shrunk backbone, every
tensor moved off its initial value), saved as a Runner checkpoint and exported with
:func:`mmsamrs.models.export_sep_file`. Each fine-tuning config, with the same tiny
backbone and its real pipeline at 32 x 32 instead of 512/896, then trains 2 iterations
in-process on converted-layout fixtures (100 training crops: the 1% subset has one) and
validates with its metric. The weights seen when training starts must be the SEP ones for
the shared trunk and fresh for the classifiers.
"""
import glob
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image
from mmsamrs.testing import shrink_model

from mmsamrs.engine import apply_samrs_sets
from mmsamrs.models import export_sep_file, is_classifier_key
from mmsamrs.registry import MODELS

pytestmark = pytest.mark.slow  # end-to-end runs: see setup.cfg
REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in glob.glob(str(REPO / 'configs' / 'finetune' / '*' / '*.py'))
                 if '_base_' not in p)
SIZE = 32  # crop / resize scale of the tiny runs
#: the config keys a Runner reads; the others are helpers of the config files (the SEP
#: config's SAMRS sets, the fine-tuning recipe), dropped in the tests because formatting
#: them into the logged and checkpointed config text costs about a second each time
RUNNER_KEYS = {'model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
               'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
               'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks',
               'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
               'visualizer', 'default_scope', 'randomness', 'model_wrapper_cfg', 'work_dir',
               'custom_imports'}
TRAIN, VAL = 100, 2
CLASSES = dict(potsdam=5, isaid=15)
#: backbone -> weight decay of fine-tuning (paper appendix A.2)
FINETUNE_WEIGHT_DECAY = {'r50': 1e-4, 'swin-t': 1e-2, 'vit-b': 5e-2}


def sep_config(backbone: str) -> Path:
    """The SEP config whose model a fine-tuning config with ``backbone`` starts from."""
    return REPO / 'configs' / 'sep' / f'upernet_{backbone}_8xb12-80k_samrs-224x224.py'


def parts(config: str):
    """``(dataset, backbone, fraction or None)`` of a fine-tuning config's file name."""
    name = Path(config).stem  # upernet_<backbone>_1xb8-80k_<dataset>[-<N>pct]-<crop>
    _, backbone, _, rest = name.split('_')
    dataset, *subset, _ = rest.split('-')
    return dataset, backbone, int(subset[0][:-3]) / 100 if subset else None


@pytest.fixture(scope='module')
def root(tmp_path_factory) -> Path:
    """``data/potsdam`` and ``data/iSAID`` in the converters' layout, small crops."""
    root = tmp_path_factory.mktemp('finetune')
    rng = np.random.default_rng(0)
    for dataset, folder in (('potsdam', 'potsdam'), ('isaid', 'iSAID')):
        for split, count in (('train', TRAIN), ('val', VAL)):
            imgs, anns = (root / 'data' / folder / sub / split for sub in ('img_dir', 'ann_dir'))
            imgs.mkdir(parents=True)
            anns.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(
                    imgs / f'{split}{i:03d}.png')
                label = rng.integers(0, CLASSES[dataset], (SIZE, SIZE), dtype=np.uint8)
                label[:8] = 255
                Image.fromarray(label).save(anns / f'{split}{i:03d}.png')
    return root


@pytest.fixture(scope='module')
def sep(tmp_path_factory):
    """Backbone -> (SEP state dict, path of its export), built lazily."""
    folder, made = tmp_path_factory.mktemp('sep'), {}

    def make(backbone: str):
        if backbone not in made:
            cfg = apply_samrs_sets(
                Config.fromfile(sep_config(backbone)))
            shrink_model(cfg.model, backbone)
            torch.manual_seed(0)
            model = MODELS.build(cfg.model)
            model.init_weights()
            with torch.no_grad():  # every tensor away from any fresh initialisation
                for tensor in model.state_dict().values():
                    if tensor.is_floating_point():
                        tensor.add_(torch.rand_like(tensor) + 1)
            ckpt, export = folder / f'{backbone}_iter.pth', folder / f'{backbone}_export.pth'
            torch.save(dict(meta=dict(iter=2), state_dict=model.state_dict()), ckpt)
            export_sep_file(str(ckpt), str(export))
            made[backbone] = model.state_dict(), export
        return made[backbone]

    return make


class StartWeights(Hook):
    """Keeps a copy of the model's weights when training starts."""

    def before_train(self, runner) -> None:
        self.state = {k: v.clone() for k, v in runner.model.state_dict().items()}


def finetune_cfg(config: str, work_dir: Path) -> Config:
    """The config with the tiny backbone, 32 x 32 pipeline, 2 iterations, no workers."""
    cfg = Config.fromfile(config)
    shrink_model(cfg.model, parts(config)[1])
    cfg.model.data_preprocessor.size = (SIZE, SIZE)
    for step in train_pipeline(cfg):
        for t in [step, *step.get('transforms', [])]:
            t.update({k: (SIZE, SIZE) for k in ('scale', 'crop_size') if k in t})
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=3, save_best=None)  # none written
    cfg.update(work_dir=str(work_dir), randomness=dict(seed=0), launcher='none')
    for key in set(cfg) - RUNNER_KEYS:
        cfg.pop(key)
    return cfg


def train_pipeline(cfg: Config) -> list:
    """The training pipeline (a few-label subset wraps the dataset)."""
    dataset = cfg.train_dataloader.dataset
    return dataset.get('dataset', dataset).pipeline


def test_protocol_settings():
    """Batch 8, 80k iterations, the paper's crops, the SEP export as start, per config."""
    for config in CONFIGS:
        dataset, backbone, _ = parts(config)
        cfg = Config.fromfile(config)
        crop = (512, 512) if dataset == 'potsdam' else (896, 896)
        assert cfg.train_dataloader.batch_size == 8 and cfg.train_cfg.max_iters == 80000
        assert cfg.model.data_preprocessor.size == crop
        assert [t.crop_size for t in train_pipeline(cfg) if t.type == 'RandomCrop'] == [crop]
        assert cfg.model.init_cfg == dict(
            type='Pretrained',
            checkpoint=f'work_dirs/{Path(sep_config(backbone)).stem}/sep_export.pth')
        assert cfg.default_hooks.checkpoint.save_best == (
            'mF1' if dataset == 'potsdam' else 'mIoU')
        # nothing of pre-training: its sets, crop, runner or unused-parameter search
        assert cfg.crop_size == crop and 'model_wrapper_cfg' not in cfg
        assert not {'samrs_sets', 'samrs_model', 'concat', 'val_crop_size', 'meta_keys',
                    'runner_type'} & set(cfg), config


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).stem)
def test_finetune_from_sep(config, root, sep, tmp_path, monkeypatch):
    dataset, backbone, fraction = parts(config)
    sep_cfg = Config.fromfile(sep_config(backbone))
    cfg = finetune_cfg(config, tmp_path / 'work')
    # the SEP config's backbone and LR, the fine-tuning weight decay, one plain head
    assert cfg.model.backbone.type == sep_cfg.model.backbone.type
    assert cfg.optim_wrapper.optimizer.lr == sep_cfg.optim_wrapper.optimizer.lr
    assert cfg.optim_wrapper.optimizer.weight_decay == FINETUNE_WEIGHT_DECAY[backbone]
    assert cfg.model.type == 'EncoderDecoder' and 'heads' not in cfg.model

    sep_state, export = sep(backbone)
    cfg.model.init_cfg.checkpoint = str(export)
    monkeypatch.chdir(root)  # the configs' data roots are relative: data/potsdam, data/iSAID
    runner = Runner.from_cfg(cfg)
    start = StartWeights()
    runner.register_hook(start)
    runner.train()

    assert len(runner.train_dataloader.dataset) == (int(TRAIN * fraction) if fraction else TRAIN)
    shared = [k for k in sep_state if not is_classifier_key(k)]
    assert set(start.state) == set(shared) | {
        f'{head}.conv_seg.{p}' for head in ('decode_head', 'auxiliary_head')
        for p in ('weight', 'bias')}
    for key in shared:
        torch.testing.assert_close(start.state[key], sep_state[key], msg=key)
    for head in ('decode_head', 'auxiliary_head'):  # fresh: Normal(0, 0.01), bias 0
        weight, bias = (start.state[f'{head}.conv_seg.{p}'] for p in ('weight', 'bias'))
        assert weight.shape[0] == CLASSES[dataset] and weight.std() < 0.05
        assert not bias.any()
    # the metric reports the key the best checkpoint is chosen by
    key = 'val/mF1' if dataset == 'potsdam' else 'val/mIoU'
    assert 0 <= runner.message_hub.get_scalar(key).current() <= 100


def test_backbone_start_and_test_metrics(root, sep, tmp_path, monkeypatch):
    """IMP/RSP rows: model.init_cfg=None starts from the backbone checkpoint alone; then
    tools/test.py's path reports the Table 3 row."""
    sep_state, _ = sep('r50')
    backbone_ckpt = tmp_path / 'backbone.pth'
    torch.save({k[len('backbone.'):]: v for k, v in sep_state.items()
                if k.startswith('backbone.')}, backbone_ckpt)
    config = REPO / 'configs/finetune/potsdam/upernet_r50_1xb8-80k_potsdam-512x512.py'
    cfg = finetune_cfg(str(config), tmp_path / 'work')
    cfg.merge_from_dict({'model.init_cfg': None})  # the one key (--cfg-options)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(backbone_ckpt))
    monkeypatch.chdir(root)
    runner = Runner.from_cfg(cfg)
    start = StartWeights()
    runner.register_hook(start)
    runner.train()
    for key, value in sep_state.items():
        if key.startswith('backbone.'):
            torch.testing.assert_close(start.state[key], value, msg=key)
        elif key in start.state and value.is_floating_point():
            assert not torch.equal(start.state[key], value), key  # not from SEP
    metrics = runner.test()
    assert list(metrics) == [f'F1/{c}' for c in (
        'impervious_surface', 'building', 'low_vegetation', 'tree', 'car')] + ['OA', 'mF1']
    assert 0 <= metrics['OA'] <= 100
