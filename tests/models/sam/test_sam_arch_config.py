"""Choosing the SAM size with one option, official weights by name, random-weight warning,
the settings a generation run pins, and a clear error for a too elongated image."""
from pathlib import Path

import pytest
import torch
from mmengine.logging import MMLogger

from mmsamrs.engine.cli import load_config
from mmsamrs.models.sam import (SAM_CHECKPOINTS, SAMDataPreprocessor, SAMGenerator,
                                build_sam, encoder_sizes)
from mmsamrs.models.sam.sam_model import official_checkpoint
from mmsamrs.registry import MODELS
from mmsamrs.testing import TINY_SAM_ARCH

REPO = Path(__file__).resolve().parents[3]
GEN_CONFIG = REPO / 'configs' / 'gen' / 'dota_hbox.py'
VIT_B = dict(embed_dim=768, depth=12, num_heads=12, global_attn_indexes=(2, 5, 8, 11))


def child_config(tmp_path: Path, model: str) -> Path:
    path = tmp_path / 'child.py'
    path.write_text(f'_base_ = [{str(GEN_CONFIG)!r}]\nmodel = dict({model})\n')
    return path


def test_command_line_arch_name(tmp_path):
    cfg = load_config(str(GEN_CONFIG), {'model.arch': 'vit_b'})
    assert cfg.model.arch == 'vit_b' and cfg.model.checkpoint == 'official'
    assert official_checkpoint(cfg.model.arch) == SAM_CHECKPOINTS['vit_b']
    cfg = load_config(str(GEN_CONFIG), {'model.arch.depth': 12})  # one size on its own
    assert encoder_sizes(cfg.model.arch)['depth'] == 12


@pytest.mark.parametrize('arch', ["'vit_b'", repr(VIT_B), repr(TINY_SAM_ARCH)])
def test_child_config_arch_without_delete(tmp_path, arch):
    cfg = load_config(str(child_config(tmp_path, f'arch={arch}, checkpoint=None')))
    assert encoder_sizes(cfg.model.arch) == encoder_sizes(eval(arch))


def test_child_config_builds_the_tiny_sam(tmp_path):
    cfg = load_config(str(child_config(tmp_path, f'arch={TINY_SAM_ARCH!r}, checkpoint=None')))
    model = MODELS.build(cfg.model)
    assert model.arch == encoder_sizes(TINY_SAM_ARCH)
    assert len(model.sam.image_encoder.blocks) == TINY_SAM_ARCH['depth']


def test_encoder_sizes_and_official_weights():
    assert encoder_sizes('vit_b') == VIT_B == encoder_sizes(dict(VIT_B))
    assert official_checkpoint(VIT_B) == SAM_CHECKPOINTS['vit_b']  # sizes of a release
    assert official_checkpoint('vit_h').endswith('sam_vit_h_4b8939.pth')
    with pytest.raises(ValueError, match="checkpoint='official' needs a released arch"):
        official_checkpoint(TINY_SAM_ARCH)
    with pytest.raises(ValueError, match='unknown SAM arch'):
        encoder_sizes('vit_x')
    with pytest.raises(ValueError, match='exactly the keys'):
        encoder_sizes(dict(depth=2))
    with pytest.raises(ValueError, match="checkpoint='official'"):
        SAMGenerator(arch=TINY_SAM_ARCH, checkpoint='official')


def test_build_sam_matches_segment_anything_vit_b():
    from segment_anything import sam_model_registry
    ours = {k: v.shape for k, v in build_sam('vit_b').state_dict().items()}
    theirs = {k: v.shape for k, v in sam_model_registry['vit_b']().state_dict().items()}
    assert ours == theirs


def test_random_weights_warn(tmp_path):
    log = tmp_path / 'log.txt'
    logger = MMLogger.get_instance(f'sam_random_weights_{tmp_path.name}', log_file=str(log))
    SAMGenerator(arch=TINY_SAM_ARCH, checkpoint=None)
    for handler in logger.handlers:
        handler.flush()
    assert 'SAM has random weights (model.checkpoint=None): its masks are meaningless' \
        in log.read_text()


def test_settings_name_what_decides_the_masks(tiny_model):
    settings = tiny_model.settings()
    assert settings['arch'] == encoder_sizes(TINY_SAM_ARCH)
    assert settings['precision'] == 'fp32' and settings['prompt_chunk_size'] == 4
    assert settings['preprocessor']['img_size'] == 1024
    assert settings['preprocessor']['mean'] == pytest.approx([123.675, 116.28, 103.53])


def test_too_elongated_image_names_its_file(sam_testing):
    sample = sam_testing.make_sample((1, 3000), boxes=[[0, 0, 100, 1]])
    data = dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']])
    with pytest.raises(ValueError, match=r'/img/0.png: image of size \(1, 3000\) \(H, W\) is '
                       'too elongated for SAM'):
        SAMDataPreprocessor()(data)
    fine = sam_testing.make_sample((4, 3000), boxes=[[0, 0, 100, 4]])
    out = SAMDataPreprocessor()(dict(inputs=[fine['inputs']],
                                     data_samples=[fine['data_samples']]))
    assert out['inputs'].shape == (1, 3, 1024, 1024) and torch.isfinite(out['inputs']).all()
