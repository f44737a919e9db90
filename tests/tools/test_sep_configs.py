"""Every configs/sep config: the paper's optimiser settings (Table 8), one training step when
tiny, and the one key `samrs_sets` choosing the sets.

Each config is built as written except for the shrunk backbone and head widths of
``mmsamrs.testing`` and a 64 x 64 input; its optimizer wrapper (with its constructor)
is built from the config, and one ``train_step`` on a mixed SOTA/SIOR/FAST batch must give
every set's losses and move the backbone's weights. ``tools/train.py`` itself runs the
configs end to end in ``test_train_sep.py``.
"""
import glob
from pathlib import Path

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmsamrs.engine import apply_samrs_sets
from mmsamrs.registry import MODELS
from mmsamrs.testing import TINY_BACKBONES, backbone_name, labelled_batch, shrink_model

pytestmark = pytest.mark.slow  # end-to-end runs: see setup.cfg
REPO = Path(__file__).resolve().parents[2]
#: the product's documented command, kept at this path whatever the configs are named
HEADLINE = REPO / 'configs' / 'sep' / 'upernet_vitaev2_samrs.py'
CONFIGS = sorted(set(glob.glob(str(REPO / 'configs' / 'sep' / '*.py'))) - {str(HEADLINE)})
SIZE = 64
#: paper Table 8 (pre-training): backbone family -> (initial LR, weight decay, minimum LR)
RECIPES = {'resnet': (1e-3, 5e-2, 5e-6), 'swin': (6e-5, 1e-2, 0.0),
           'vitaev2': (6e-5, 1e-2, 0.0), 'internimage': (6e-5, 5e-2, 0.0),
           'vit': (6e-5, 5e-2, 0.0), 'vit-adapter': (6e-5, 1e-2, 0.0)}
FAMILY = {'r50': 'resnet', 'swin-t': 'swin', 'vitaev2-s': 'vitaev2',
          'internimage-t': 'internimage', 'vit-b': 'vit', 'beit-b': 'vit',
          'vit-b-rvsa': 'vit', 'vit-adapter-b': 'vit-adapter'}
#: families whose public recipes decay the LR layer by layer (num_layers, rate)
LAYER_DECAY = {'vit': (12, 0.9), 'vit-adapter': (12, 0.95)}


def test_every_backbone_has_a_tiny_version_and_a_recipe():
    names = {backbone_name(c) for c in CONFIGS}
    assert names <= set(TINY_BACKBONES) and names <= set(FAMILY)


def test_headline_path_is_the_vitaev2_config():
    """``configs/sep/upernet_vitaev2_samrs.py`` gives exactly the ViTAEv2-S SEP config."""
    headline = Config.fromfile(str(HEADLINE)).to_dict()
    target = Config.fromfile(
        str(REPO / 'configs/sep/upernet_vitaev2-s_8xb12-80k_samrs-224x224.py')).to_dict()
    assert headline == target
    assert headline['model']['backbone']['type'] == 'mmsamrs.ViTAEv2'


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).stem)
def test_optimiser_settings_follow_the_spec(config):
    cfg = Config.fromfile(config)
    family = FAMILY[backbone_name(config)]
    lr, weight_decay, eta_min = RECIPES[family]
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay, optimizer.betas) == (
        'AdamW', lr, weight_decay, (0.9, 0.999))
    assert cfg.param_scheduler.type == 'CosineAnnealingLR'
    assert cfg.param_scheduler.eta_min == eta_min and cfg.train_cfg.max_iters == 80000
    assert cfg.train_dataloader.batch_size * 8 == 96
    if family in LAYER_DECAY:
        num_layers, rate = LAYER_DECAY[family]
        assert cfg.optim_wrapper.constructor == 'mmsamrs.ViTLayerDecayOptimWrapperConstructor'
        assert cfg.optim_wrapper.paramwise_cfg == dict(num_layers=num_layers,
                                                       layer_decay_rate=rate)
    else:
        assert 'constructor' not in cfg.optim_wrapper
    assert cfg.model.type == 'mmsamrs.MultiHeadEncoderDecoder'
    assert cfg.samrs_sets == ['SOTA', 'SIOR', 'FAST'] and cfg.runner_type == 'mmsamrs.SEPRunner'
    assert apply_samrs_sets(cfg).model.heads == dict(SOTA=18, SIOR=20, FAST=37)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).stem)
def test_one_training_step_when_tiny(config):
    init_default_scope('mmsamrs')
    cfg = apply_samrs_sets(Config.fromfile(config))
    shrink_model(cfg.model, backbone_name(config))
    cfg.model.data_preprocessor.size = (SIZE, SIZE)
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}

    inputs, samples = labelled_batch(['SOTA', 'SIOR', 'FAST'] * 2, cfg.model.heads, SIZE)
    log_vars = model.train_step(dict(inputs=list(inputs), data_samples=samples), optim_wrapper)

    assert torch.isfinite(log_vars['loss'])
    for name in cfg.model.heads:
        assert any(k.startswith('decode.') and k.endswith(f'.{name}') and 'loss' in k
                   for k in log_vars), (name, sorted(log_vars))
    moved = [k for k, v in model.backbone.state_dict().items()
             if v.is_floating_point() and not torch.equal(v, before[k])]
    assert moved, 'one step left every backbone weight unchanged'
    family = FAMILY[backbone_name(config)]
    if family in LAYER_DECAY:  # the deepest block learns faster than the embedding
        groups = optim_wrapper.optimizer.param_groups
        assert min(g['lr'] for g in groups) < max(g['lr'] for g in groups)


def test_internimage_224_row_resizes_the_image_not_the_labels(tmp_path):
    """Table 9 'InternImage-T (dagger)': 512 centre crop, image to 224, labels kept at 512."""
    init_default_scope('mmsamrs')
    cfg = Config.fromfile(
        REPO / 'configs/sep/upernet_internimage-t_8xb12-80k_samrs-224x224-val224x224.py')
    cfg.dump(tmp_path / 'dumped.py')  # the Runner stores the config text: it must re-read
    cfg = Config.fromfile(tmp_path / 'dumped.py')
    for loader in ('val_dataloader', 'test_dataloader'):
        pipeline = Compose(cfg[loader].dataset.pipeline[2:])  # after the two loading steps
        image = np.random.default_rng(0).integers(0, 256, (600, 700, 3), dtype=np.uint8)
        labels = np.arange(600 * 700).reshape(600, 700) % 7
        packed = pipeline(dict(img=image, gt_seg_map=labels.astype(np.uint8),
                               img_shape=(600, 700), ori_shape=(600, 700),
                               seg_fields=['gt_seg_map'], reduce_zero_label=False))
        sample = packed['data_samples']
        assert packed['inputs'].shape == (3, 224, 224)
        assert sample.img_shape == (224, 224) and sample.ori_shape == (512, 512)
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      labels[44:556, 94:606])  # the centre crop


def test_layer_decay_block_is_defined_once_and_no_config_updates_globals():
    texts = {path: Path(path).read_text()
             for path in glob.glob(str(REPO / 'configs' / '**' / '*.py'), recursive=True)}
    defining = [p for p, text in texts.items() if 'ViTLayerDecayOptimWrapperConstructor' in text]
    assert defining == [str(REPO / 'configs/_base_/schedules/sep_80k_layer-decay.py')]
    assert not [p for p, text in texts.items() if 'globals()' in text]


@pytest.mark.parametrize('sets', [['SIOR'], ['SOTA', 'FAST'], [
    'SIOR', dict(name='Roads', classes=('road', 'bridge'), data_root='data/roads')]])
def test_samrs_sets_alone_chooses_heads_datasets_and_metric(sets, tmp_path):
    """One key, from a child config or --cfg-options, changes every derived part."""
    child = tmp_path / 'child.py'
    base = REPO / 'configs/sep/upernet_r50_8xb12-80k_samrs-224x224.py'
    child.write_text(f"_base_ = [{str(base)!r}]\n"
                     f'samrs_sets = {sets!r}\n')
    from_file = apply_samrs_sets(Config.fromfile(child))
    from_options = Config.fromfile(REPO / 'configs/sep/upernet_r50_8xb12-80k_samrs-224x224.py')
    from_options.merge_from_dict(dict(samrs_sets=sets))
    for cfg in (from_file, apply_samrs_sets(from_options)):
        names = [s if isinstance(s, str) else s['name'] for s in sets]
        assert list(cfg.model.heads) == names
        assert cfg.model.heads.get('Roads', 2) == 2
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            assert cfg[loader].dataset.sets == sets
        assert 'num_classes' not in cfg.val_evaluator  # from the dataset's metainfo
