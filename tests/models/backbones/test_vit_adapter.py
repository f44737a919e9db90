"""Tests of the ViT-Adapter backbone and of its multi-scale deformable attention."""
import copy
import math
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from torch import Tensor

from mmsamrs.models.backbones.vit_adapter import ViTAdapter
from mmsamrs.models.layers import adapter_modules
from mmsamrs.models.layers.adapter_modules import (DeformableInputs, MSDeformAttn,
                                                   deformable_inputs,
                                                   multi_scale_deformable_attention)
from mmsamrs.registry import MODELS
from mmsamrs.testing import TINY_BACKBONES

TINY = dict(TINY_BACKBONES['vit-adapter-b']['backbone'], norm_cfg=dict(type='BN'))
IMAGE_HW = (64, 96)
VIT_PREFIXES = ('patch_embed.', 'blocks.')


def tiny_model(**overrides) -> ViTAdapter:
    """A tiny ViT-Adapter with ViT-Adapter's random init."""
    model = ViTAdapter(**{**TINY, **overrides})
    model.init_weights()
    return model


def bilinear(value_map: Tensor, x: float, y: float) -> Tensor:
    """(h, w, C) map sampled at pixel coordinates (x, y) (cell centres on integers), zero
    outside: the reference for mmcv's sampling."""
    h, w, _ = value_map.shape
    x0, y0 = math.floor(x), math.floor(y)
    out = torch.zeros(value_map.shape[-1])
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                out += wy * wx * value_map[yy, xx]
    return out


def single_level_inputs(points: List[Tuple[float, float]], shape: Tuple[int, int]):
    """DeformableInputs of queries at normalised (x, y) ``points`` over one value level."""
    return DeformableInputs(torch.tensor(points)[None, :, None], [],
                            torch.tensor([shape]), torch.tensor([0]))


def test_output_four_levels_at_strides_4_to_32():
    model = ViTAdapter(**TINY)
    outs = model(torch.randn(2, 3, *IMAGE_HW))
    assert isinstance(outs, (list, tuple)) and len(outs) == 4
    for out, stride in zip(outs, (4, 8, 16, 32)):
        assert out.shape == (2, 48, IMAGE_HW[0] // stride, IMAGE_HW[1] // stride)


def test_input_sides_must_be_multiples_of_32():
    with pytest.raises(ValueError, match='multiples of 32'):
        ViTAdapter(**TINY)(torch.randn(1, 3, 64, 80))


def test_registered_in_mmsamrs_scope():
    init_default_scope('mmsamrs')
    assert isinstance(MODELS.build(dict(type='ViTAdapter', **TINY)), ViTAdapter)
    assert isinstance(MODELS.build(dict(type='mmsamrs.ViTAdapter', **TINY)), ViTAdapter)


def test_loads_deit_checkpoint(tmp_path: Path):
    source = tiny_model()
    grid = source.pos_embed
    vit = {k: v for k, v in source.state_dict().items() if k.startswith(VIT_PREFIXES)}
    public = {
        **vit,
        'pos_embed': torch.cat([torch.randn(1, 1, 48), grid.detach()], dim=1),
        'cls_token': torch.randn(1, 1, 48),
        'norm.weight': torch.randn(48), 'norm.bias': torch.randn(48),
        'head.weight': torch.randn(10, 48), 'head.bias': torch.randn(10),
    }
    path = tmp_path / 'deit.pth'
    torch.save({'model': public}, path)

    target = ViTAdapter(**TINY, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    loaded = target.state_dict()
    for key, value in vit.items():
        assert torch.equal(loaded[key], value), key
    assert torch.equal(loaded['pos_embed'], grid.detach())


def test_loads_vit_adapter_release_checkpoint(tmp_path: Path):
    source = tiny_model(init_values=0.1)
    for module in source.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    own = source.state_dict()
    backbone = {('backbone.' + k): v for k, v in own.items()}
    backbone['backbone.pos_embed'] = torch.cat([torch.randn(1, 1, 48), own['pos_embed']], 1)
    checkpoint = {'meta': {'iter': 160000},
                  'state_dict': {**backbone, 'decode_head.conv_seg.weight': torch.randn(7, 8)}}
    path = tmp_path / 'upernet_deit_adapter.pth'
    torch.save(checkpoint, path)

    target = ViTAdapter(**TINY, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    loaded = target.state_dict()
    assert loaded.keys() == own.keys()
    for key, value in own.items():
        assert torch.equal(loaded[key], value), key
    x = torch.randn(2, 3, *IMAGE_HW)
    with torch.no_grad():
        for ours, theirs in zip(source.eval()(x), target.eval()(x)):
            assert torch.equal(ours, theirs)


def test_position_embedding_of_another_grid_is_resized(tmp_path: Path):
    public = torch.randn(1, 1 + 6 * 6, 48)
    path = tmp_path / 'deit384.pth'
    torch.save({'model': {'pos_embed': public}}, path)
    target = ViTAdapter(**TINY, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    grid = public[:, 1:].reshape(1, 6, 6, 48).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, size=(4, 4), mode='bicubic', align_corners=False)
    torch.testing.assert_close(target.pos_embed.detach(), expected.flatten(2).transpose(1, 2))


def test_gradients_reach_every_parameter():
    model = tiny_model().train()
    # The official init zeroes the injector scale and the offset/attention-weight
    # projections, which blocks some gradients at step 0 only; move off that point.
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.01 * torch.randn_like(param))
    outs = model(torch.randn(2, 3, *IMAGE_HW))
    # A weighted sum: a plain sum of batch-normalised maps has zero gradient.
    loss = sum((out * torch.randn_like(out)).sum() for out in outs)
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_auto_on_cpu_takes_the_pytorch_path(monkeypatch: pytest.MonkeyPatch):
    calls = []
    pytorch_path = adapter_modules.multi_scale_deformable_attn_pytorch

    def spy(*args):
        calls.append(args)
        return pytorch_path(*args)

    monkeypatch.setattr(adapter_modules, 'multi_scale_deformable_attn_pytorch', spy)
    inputs = deformable_inputs([(2, 3)], [(4, 6), (2, 3)], torch.device('cpu'))
    value = torch.randn(2, 4 * 6 + 2 * 3, 2, 8)
    locations = torch.rand(2, 6, 2, 2, 3, 2)
    weights = torch.rand(2, 6, 2, 2, 3).softmax(-1)
    args = (value, inputs.spatial_shapes, inputs.level_start_index, locations, weights)
    auto = multi_scale_deformable_attention(*args, impl='auto')
    assert len(calls) == 1
    assert torch.equal(auto, multi_scale_deformable_attention(*args, impl='pytorch'))
    with pytest.raises(RuntimeError, match='CUDA'):
        multi_scale_deformable_attention(*args, impl='mmcv')


def test_unknown_impl_is_rejected():
    with pytest.raises(ValueError, match='impl'):
        MSDeformAttn(16, 1, 2, 1, impl='cuda')


def test_zero_offsets_sample_the_projected_value_at_the_reference_points():
    torch.manual_seed(0)
    attn = MSDeformAttn(d_model=4, n_levels=1, n_heads=1, n_points=1)
    torch.nn.init.zeros_(attn.sampling_offsets.weight)
    torch.nn.init.zeros_(attn.sampling_offsets.bias)
    h, w = 3, 5
    feat = torch.randn(1, h * w, 4)
    points = [(2.5 / w, 1.5 / h), (0.33, 0.61), (0.05, 0.95)]
    out = attn(torch.randn(1, len(points), 4), feat, single_level_inputs(points, (h, w)))

    value_map = attn.value_proj(feat)[0].reshape(h, w, 4)
    samples = torch.stack([bilinear(value_map, x * w - 0.5, y * h - 0.5) for x, y in points])
    torch.testing.assert_close(out[0], attn.output_proj(samples))
    # A reference point on a cell centre reads exactly that cell.
    torch.testing.assert_close(out[0, 0], attn.output_proj(value_map[1, 2]))


def test_offsets_are_in_cells_of_each_level_and_levels_are_weighted():
    torch.manual_seed(0)
    attn = MSDeformAttn(d_model=4, n_levels=2, n_heads=1, n_points=1)
    torch.nn.init.zeros_(attn.sampling_offsets.weight)
    with torch.no_grad():
        attn.sampling_offsets.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0]))
    torch.nn.init.zeros_(attn.attention_weights.weight)
    torch.nn.init.zeros_(attn.attention_weights.bias)
    shapes = [(2, 3), (4, 6)]
    inputs = deformable_inputs([shapes[0]], shapes, torch.device('cpu'))
    feat = torch.randn(1, 2 * 3 + 4 * 6, 4)
    out = attn(torch.randn(1, 6, 4), feat, inputs)

    value = attn.value_proj(feat)[0]
    coarse, fine = value[:6].reshape(2, 3, 4), value[6:].reshape(4, 6, 4)
    expected = []
    for i in range(2):
        for j in range(3):
            # Level 0: one cell to the right of the query's own cell.
            on_coarse = bilinear(coarse, j + 1.0, float(i))
            # Level 1: the same image point, then one (finer) cell down.
            on_fine = bilinear(fine, (j + 0.5) * 2 - 0.5, (i + 0.5) * 2 - 0.5 + 1)
            expected.append(0.5 * on_coarse + 0.5 * on_fine)
    torch.testing.assert_close(out[0], attn.output_proj(torch.stack(expected)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='mmcv kernel needs CUDA')
def test_mmcv_kernel_matches_pytorch_path_on_cuda():
    torch.manual_seed(0)
    device = torch.device('cuda')
    reference = MSDeformAttn(d_model=32, n_levels=3, n_heads=4, n_points=4, ratio=0.5,
                             impl='pytorch').to(device)
    torch.nn.init.normal_(reference.sampling_offsets.weight, std=0.5)
    torch.nn.init.normal_(reference.attention_weights.weight, std=0.5)
    kernel = copy.deepcopy(reference)
    kernel.impl = 'mmcv'
    inputs = deformable_inputs([(4, 6)], [(8, 12), (4, 6), (2, 3)], device)
    query = torch.randn(2, 24, 32, device=device)
    feat = torch.randn(2, 8 * 12 + 4 * 6 + 2 * 3, 32, device=device)

    grad_out = torch.randn(2, 24, 32, device=device)

    results: Dict[str, Tuple[Tensor, List[Tensor]]] = {}
    for name, module in (('pytorch', reference), ('mmcv', kernel)):
        q, f = query.clone().requires_grad_(), feat.clone().requires_grad_()
        out = module(q, f, inputs)
        out.backward(grad_out)
        grads = [q.grad, f.grad] + [p.grad for p in module.parameters()]
        results[name] = (out, grads)
    torch.testing.assert_close(results['mmcv'][0], results['pytorch'][0], rtol=1e-4, atol=1e-5)
    for ours, theirs in zip(results['mmcv'][1], results['pytorch'][1]):
        torch.testing.assert_close(ours, theirs, rtol=1e-3, atol=1e-4)
