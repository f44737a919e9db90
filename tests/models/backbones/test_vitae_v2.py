"""Tests of the ViTAEv2 backbone and its window attention."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope

from mmsamrs.models.backbones.vitae_v2 import ViTAEv2
from mmsamrs.models.layers.vitae_cells import ValueResidualAttention, WindowAttention
from mmsamrs.registry import MODELS
from mmsamrs.testing import TINY_BACKBONES

#: A tiny ViTAEv2 (one normal cell a stage, narrow, window 4).
TINY = TINY_BACKBONES['vitaev2-s']['backbone']
#: The tiny model's PRM branches and window-attention stages (the defaults of ViTAEv2-S).
DILATIONS = (4, 3, 2, 2)
WINDOW_STAGES = (0, 1)
#: Window side of the released checkpoints.
PUBLIC_WINDOW = 7


def build(seed: int = 0, **overrides) -> ViTAEv2:
    """A tiny ViTAEv2 with seeded random init."""
    torch.manual_seed(seed)
    model = ViTAEv2(**{**TINY, **overrides})
    model.init_weights()
    return model


def reference_attention(module, x: torch.Tensor, bias=None) -> torch.Tensor:
    """Full softmax attention of ``module``'s projections over all tokens of ``x`` (B, N, C)."""
    b, n, _ = x.shape
    q, k, v = module.qkv(x).reshape(b, n, 3, module.num_heads, -1).permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if bias is not None:
        logits = logits + bias
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1)
    return module.proj(out)


def official_keys() -> set:
    """The official ViTAE_Window_NoShift state-dict keys of the tiny model (no classifier)."""
    def linear(name, bias=True):
        return [f'{name}.weight'] + ([f'{name}.bias'] if bias else [])

    def pcm(prefix):
        keys = [k for i in (0, 3, 6) for k in linear(f'{prefix}.PCM.{i}')]
        return keys + [f'{prefix}.PCM.{i}.{name}' for i in (1, 4) for name in (
            'weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')]

    keys = []
    for stage, branches in enumerate(DILATIONS):
        rc = f'layers.{stage}.RC'
        keys += pcm(rc) + [k for j in range(branches) for k in linear(f'{rc}.PRM.convs.{j}.0')]
        keys += linear(f'{rc}.attn.attn.qkv', bias=stage in WINDOW_STAGES)
        keys += [k for name in ('norm1', 'norm2', 'attn.proj', 'mlp.fc1', 'mlp.fc2')
                 for k in linear(f'{rc}.attn.{name}')]
        nc = f'layers.{stage}.NC.0'
        keys += pcm(nc) + [k for name in ('norm1', 'norm2', 'attn.qkv', 'attn.proj', 'mlp.fc1',
                                          'mlp.fc2') for k in linear(f'{nc}.{name}')]
    return set(keys)


def window_attention_prefixes() -> list:
    """The official names of the tiny model's window attentions."""
    return [prefix for stage in WINDOW_STAGES
            for prefix in (f'layers.{stage}.RC.attn.attn', f'layers.{stage}.NC.0.attn')]


def test_outputs_four_levels_at_strides_4_to_32():
    model = build().eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 64, 96))
    assert isinstance(outs, tuple) and len(outs) == 4
    for out, channels, stride in zip(outs, TINY['token_dims'], (4, 8, 16, 32)):
        assert out.shape == (2, channels, 64 // stride, 96 // stride)
    assert model.out_channels == TINY['token_dims']


def test_registered_in_mmsamrs_scope():
    with DefaultScope.overwrite_default_scope('mmsamrs'):
        model = MODELS.build(dict(type='ViTAEv2', **TINY))
    assert isinstance(model, ViTAEv2)
    assert isinstance(MODELS.build(dict(type='mmsamrs.ViTAEv2', **TINY)), ViTAEv2)


def test_state_dict_has_the_official_layout():
    assert set(build().state_dict()) == official_keys()


def test_loads_a_public_checkpoint(tmp_path):
    source = build(seed=1)
    with torch.no_grad():
        for key, tensor in source.state_dict().items():
            if key.endswith('running_var'):
                tensor.uniform_(0.5, 1.5)
            elif tensor.is_floating_point():
                tensor.add_(0.05 * torch.randn_like(tensor))
    state = dict(source.state_dict())
    public = dict(state, **{'head.weight': torch.randn(10, 64), 'head.bias': torch.randn(10)})
    side = 2 * PUBLIC_WINDOW - 1
    for prefix in window_attention_prefixes():
        public[f'{prefix}.relative_position_bias_table'] = torch.randn(side * side, 2)
        public[f'{prefix}.relative_position_index'] = torch.randint(side * side, (49, 49))
    path = tmp_path / 'ViTAEv2-S.pth.tar'
    torch.save({'state_dict': public, 'epoch': 300}, path)

    target = build(seed=2, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    loaded = target.state_dict()
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    image = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        for expected, out in zip(source.eval()(image), target.eval()(image)):
            assert torch.equal(expected, out)


def test_resizes_public_relative_position_tables(tmp_path):
    source = build(seed=1, relative_pos=True)
    public = dict(source.state_dict())
    side = 2 * PUBLIC_WINDOW - 1
    tables = {}
    for prefix in window_attention_prefixes():
        key = f'{prefix}.relative_position_bias_table'
        heads = public[key].shape[1]
        tables[key] = public[key] = torch.randn(side * side, heads)
    path = tmp_path / 'rsp-vitaev2-s-ckpt.pth'
    torch.save({'model': public}, path)

    target = build(seed=2, relative_pos=True,
                   init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    loaded = target.state_dict()
    new_side = 2 * TINY['window_size'] - 1
    for key, table in tables.items():
        grid = table.T.reshape(1, -1, side, side)
        expected = F.interpolate(grid, size=(new_side, new_side), mode='bicubic',
                                 align_corners=False).reshape(-1, new_side**2).T
        torch.testing.assert_close(loaded[key], expected)
    assert torch.equal(loaded['layers.0.NC.0.mlp.fc1.weight'],
                       public['layers.0.NC.0.mlp.fc1.weight'])


def test_gradients_reach_every_parameter():
    model = build(relative_pos=True, drop_path_rate=0.0).train()
    sum(out.sum() for out in model(torch.randn(2, 3, 64, 96))).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


@pytest.mark.parametrize('relative_pos', [False, True])
def test_window_covering_the_map_is_full_attention(relative_pos):
    torch.manual_seed(0)
    attn = WindowAttention(12, 8, num_heads=2, window_size=6, relative_pos=relative_pos)
    if relative_pos:
        torch.nn.init.zeros_(attn.relative_position_bias_table)
    x = torch.randn(2, 36, 12)
    torch.testing.assert_close(attn(x, (6, 6)), reference_attention(attn, x))


def test_window_pads_the_map_bottom_right_with_zeros():
    torch.manual_seed(0)
    attn = WindowAttention(8, 8, num_heads=2, window_size=8)
    x = torch.randn(2, 5 * 7, 8)
    padded = F.pad(x.view(2, 5, 7, 8), (0, 0, 0, 1, 0, 3)).view(2, 64, 8)
    expected = reference_attention(attn, padded).view(2, 8, 8, -1)[:, :5, :7].reshape(2, 35, -1)
    torch.testing.assert_close(attn(x, (5, 7)), expected)


def test_unpadded_windows_of_a_padded_map_match_a_divisible_map():
    torch.manual_seed(0)
    attn = WindowAttention(8, 16, num_heads=2, window_size=4)
    x = torch.randn(2, 6, 10, 8)
    out = attn(x.reshape(2, 60, 8), (6, 10)).view(2, 6, 10, -1)
    crop = attn(x[:, :4, :8].reshape(2, 32, 8), (4, 8)).view(2, 4, 8, -1)
    torch.testing.assert_close(out[:, :4, :8], crop)


def test_relative_position_bias_indexes_the_offsets():
    torch.manual_seed(0)
    ws = 3
    attn = WindowAttention(8, 8, num_heads=2, window_size=ws, relative_pos=True)
    torch.nn.init.normal_(attn.relative_position_bias_table)
    table = attn.relative_position_bias_table.detach()
    bias = torch.empty(2, ws * ws, ws * ws)
    for i in range(ws * ws):
        for j in range(ws * ws):
            dy, dx = i // ws - j // ws, i % ws - j % ws
            bias[:, i, j] = table[(dy + ws - 1) * (2 * ws - 1) + dx + ws - 1]
    x = torch.randn(2, ws * ws, 8)
    torch.testing.assert_close(attn(x, (ws, ws)), reference_attention(attn, x, bias))


def test_value_residual_attention_adds_the_values():
    torch.manual_seed(0)
    attn = ValueResidualAttention(12, 8, num_heads=2)
    x = torch.randn(2, 10, 12)
    values = attn.qkv(x)[..., 16:]
    torch.testing.assert_close(attn(x, (2, 5)), values + reference_attention(attn, x))
