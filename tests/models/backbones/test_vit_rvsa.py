"""ViTRVSA: pyramid strides, registry, MAE-layout checkpoints, gradients, attention layout."""
import pytest
import torch
import torch.nn.functional as F

from mmsamrs.models.backbones.vit_rvsa import ViTRVSA
from mmsamrs.models.layers.rotated_window_attention import RotatedVariedSizeWindowAttention
from mmsamrs.models.layers.vit_blocks import Attention
from mmsamrs.registry import MODELS
from mmsamrs.testing import TINY_BACKBONES

TINY = TINY_BACKBONES['vit-b-rvsa']['backbone']


def tiny(seed: int = 0, **kwargs) -> ViTRVSA:
    torch.manual_seed(seed)
    model = ViTRVSA(**{**TINY, **kwargs})
    if model.init_cfg is None:
        model.init_weights()
    return model


def perturb(model: ViTRVSA) -> None:
    """Move the parameters the random init leaves at zero, so loading them shows."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'sampling_' in name or 'rel_pos' in name:
                param.normal_(std=0.01)


@pytest.mark.parametrize('window_size', [4, 7])
def test_four_levels_at_strides_4_to_32(window_size):
    model = tiny(window_size=window_size)
    outs = model(torch.randn(2, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [
        (2, 48, 64 // s, 96 // s) for s in (4, 8, 16, 32)]
    assert all(torch.isfinite(o).all() for o in outs)


def test_registered_in_mmsamrs_scope():
    for name in ('ViTRVSA', 'mmsamrs.ViTRVSA'):
        assert isinstance(MODELS.build(dict(type=name, **TINY)), ViTRVSA)


def test_global_attention_every_interval_th_block():
    model = tiny(depth=6, interval=3)
    kinds = [type(block.attn) for block in model.blocks]
    rvsa, full = RotatedVariedSizeWindowAttention, Attention
    assert kinds == [rvsa, rvsa, full, rvsa, rvsa, full]
    assert all(block.attn.window_size == 4 for block in model.blocks if type(block.attn) is rvsa)


def to_mae_layout(model: ViTRVSA, beit_bias: bool) -> dict:
    """The model's weights as an MAE checkpoint: class-token row in ``pos_embed``, MAE-only
    keys, ``{'model': ...}`` container; BEiT-style q/v biases when asked."""
    state = {key: value.clone() for key, value in model.state_dict().items()}
    state['pos_embed'] = torch.cat([torch.randn(1, 1, 48), state['pos_embed']], dim=1)
    state.update({'cls_token': torch.randn(1, 1, 48), 'mask_token': torch.randn(1, 1, 32),
                  'decoder_embed.weight': torch.randn(32, 48), 'norm.weight': torch.ones(48),
                  'norm.bias': torch.zeros(48)})
    if beit_bias:
        for key in [k for k in state if k.endswith('attn.qkv.bias')]:
            q_bias, _, v_bias = state.pop(key).chunk(3)
            state[key.replace('qkv.bias', 'q_bias')] = q_bias
            state[key.replace('qkv.bias', 'v_bias')] = v_bias
    return {'model': state}


@pytest.mark.parametrize('beit_bias', [False, True])
def test_loads_mae_layout_checkpoint(tmp_path, beit_bias):
    source = tiny(seed=1, img_size=224, use_abs_pos_emb=True)
    perturb(source)
    if beit_bias:  # BEiT has no key bias; the merged one is zero
        with torch.no_grad():
            for block in source.blocks:
                block.attn.qkv.bias[48:96] = 0
    path = tmp_path / 'mae.pth'
    torch.save(to_mae_layout(source, beit_bias), path)

    target = tiny(seed=2, img_size=224, use_abs_pos_emb=True,
                  init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    expected = source.state_dict()
    for key, value in target.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0, msg=key)
    source.eval()
    target.eval()
    x = torch.randn(1, 3, 64, 96)
    for a, b in zip(source(x), target(x)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_mae_pos_embed_is_resized_and_rvsa_parts_start_at_zero(tmp_path):
    """A pure MAE encoder (14x14 + class token) into a 64-pixel model (4x4 grid)."""
    mae = tiny(seed=1, img_size=224, use_abs_pos_emb=True)
    state = {k: v for k, v in to_mae_layout(mae, False)['model'].items()
             if not ('sampling_' in k or 'rel' in k or k.startswith('fpn'))}
    path = tmp_path / 'mae_encoder.pth'
    torch.save({'model': state}, path)

    model = tiny(seed=2, use_abs_pos_emb=True,
                 init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    grid = state['pos_embed'][:, 1:].reshape(1, 14, 14, 48).permute(0, 3, 1, 2)
    resized = F.interpolate(grid, size=(4, 4), mode='bicubic', align_corners=False)
    torch.testing.assert_close(model.pos_embed, resized.flatten(2).transpose(1, 2))
    torch.testing.assert_close(model.blocks[1].mlp.fc1.weight, state['blocks.1.mlp.fc1.weight'])
    for name, param in model.named_parameters():
        if 'sampling_' in name:
            assert not param.any(), name


def test_checkpoint_pos_embed_ignored_without_absolute_embedding(tmp_path):
    mae = tiny(seed=1, img_size=224, use_abs_pos_emb=True)
    path = tmp_path / 'mae.pth'
    torch.save(to_mae_layout(mae, False), path)
    model = tiny(seed=2, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    assert model.pos_embed is None
    torch.testing.assert_close(model.blocks[0].attn.qkv.weight, mae.blocks[0].attn.qkv.weight)


def test_every_parameter_gets_gradients():
    model = tiny(drop_path_rate=0.0, use_abs_pos_emb=True)
    sum(o.sum() for o in model(torch.randn(2, 3, 64, 96))).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_checkpointing_gives_the_same_outputs():
    model = tiny(drop_path_rate=0.0)
    x = torch.randn(1, 3, 64, 64)
    plain = model(x)
    model.with_cp = True
    for a, b in zip(plain, model(x)):
        torch.testing.assert_close(a, b)
