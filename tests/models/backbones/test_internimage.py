"""InternImage backbone: pyramid shapes, registry, official checkpoint layout, gradients."""
import pytest
import torch
from mmengine.registry import init_default_scope

from mmsamrs.models.backbones.internimage import InternImage
from mmsamrs.registry import MODELS
from mmsamrs.testing import TINY_BACKBONES

TINY = dict(TINY_BACKBONES['internimage-t']['backbone'], layer_scale=1.0)


def tiny(**kwargs) -> InternImage:
    torch.manual_seed(0)
    model = InternImage(**{**TINY, **kwargs})
    model.init_weights()
    return model


def randomize(model: InternImage, seed: int = 1) -> InternImage:
    """Every parameter and BN buffer random, so that DCNv3 predicts real (several px) offsets
    and any misplaced tensor shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5 if tensor.dim() == 1
                             else torch.randn(tensor.shape, generator=gen) * 0.5)
    return model


def official_keys(depths, layer_scale=True, post_norm=False):
    """Parameter names of the official ``InternImage`` (LN variant) minus its classifier."""
    keys = [f'patch_embed.{m}.{p}' for m in ('conv1', 'norm1.1', 'conv2', 'norm2.1')
            for p in ('weight', 'bias')]
    for n, depth in enumerate(depths):
        for m in range(depth):
            block = f'levels.{n}.blocks.{m}.'
            modules = ['norm1.0', 'norm2.0', 'mlp.fc1', 'mlp.fc2'] + [
                f'dcn.{name}' for name in ('dw_conv.0', 'dw_conv.1.1', 'offset', 'mask',
                                           'input_proj', 'output_proj')]
            keys += [block + f'{mod}.{p}' for mod in modules for p in ('weight', 'bias')]
            keys += [block + 'gamma1', block + 'gamma2'] if layer_scale else []
        if not post_norm:
            keys += [f'levels.{n}.norm.0.weight', f'levels.{n}.norm.0.bias']
        if n < len(depths) - 1:
            keys += [f'levels.{n}.downsample.conv.weight',
                     f'levels.{n}.downsample.norm.1.weight',
                     f'levels.{n}.downsample.norm.1.bias']
    return keys


def test_four_levels_at_strides_4_to_32_with_doubling_channels():
    model = tiny().eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 64, 96))
    assert isinstance(outs, list) and len(outs) == 4
    assert [tuple(o.shape) for o in outs] == [(2, 16 * 2**i, 64 // 2**(i + 2), 96 // 2**(i + 2))
                                              for i in range(4)]
    assert all(o.is_contiguous() for o in outs)


def test_out_indices_select_levels():
    model = tiny(out_indices=(1, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [32, 128]


def test_builds_from_registry_in_mmsamrs_scope():
    init_default_scope('mmsamrs')
    model = MODELS.build(dict(type='InternImage', **TINY))
    assert isinstance(model, InternImage)


@pytest.mark.parametrize('post_norm,layer_scale', [(False, 1.0), (True, 1e-5), (False, None)])
def test_parameter_names_are_the_official_ones(post_norm, layer_scale):
    model = tiny(post_norm=post_norm, layer_scale=layer_scale)
    expected = official_keys(TINY['depths'], layer_scale is not None, post_norm)
    assert sorted(model.state_dict()) == sorted(expected)


def test_loads_an_official_layout_classification_checkpoint(tmp_path):
    source = randomize(tiny())
    state = source.state_dict()
    # The public file: {'model': ...} under the official names, with the classifier.
    public = {key: state[key].clone() for key in official_keys(TINY['depths'])}
    public.update({'conv_head.0.weight': torch.randn(192, 128, 1, 1),
                   'conv_head.1.0.weight': torch.rand(192),
                   'conv_head.1.0.bias': torch.rand(192),
                   'conv_head.1.0.running_mean': torch.rand(192),
                   'conv_head.1.0.running_var': torch.rand(192),
                   'conv_head.1.0.num_batches_tracked': torch.tensor(3),
                   'head.weight': torch.randn(1000, 192), 'head.bias': torch.randn(1000)})
    path = tmp_path / 'internimage_tiny_1k_224.pth'
    torch.save({'model': public}, path)

    model = tiny(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    loaded = model.state_dict()
    assert all(torch.equal(loaded[key], state[key]) for key in state)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        for out, ref in zip(model.eval()(x), source.eval()(x)):
            torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_every_parameter_gets_a_gradient():
    # Randomized: at the official init (zero offset/mask weights) dw_conv gets no gradient.
    model = randomize(tiny()).train()
    outs = model(torch.randn(2, 3, 64, 64))
    gen = torch.Generator().manual_seed(0)
    # Random weights: a plain sum of a LayerNorm's output does not depend on its input.
    loss = sum((out * torch.randn(out.shape, generator=gen)).sum() for out in outs)
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_pytorch_and_mmcv_core_ops_give_the_same_backbone_outputs():
    models = {impl: randomize(tiny(core_op_impl=impl)).double().eval()
              for impl in ('pytorch', 'mmcv')}
    offsets = []
    models['mmcv'].levels[0].blocks[0].dcn.offset.register_forward_hook(
        lambda module, args, out: offsets.append(out))
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64)
    with torch.no_grad():
        outs = {impl: model(x) for impl, model in models.items()}
    assert offsets[0].abs().max() > 2  # the comparison covers fractional, far-off samples
    for out_mmcv, out_pt in zip(outs['mmcv'], outs['pytorch']):
        torch.testing.assert_close(out_mmcv, out_pt, rtol=1e-9, atol=1e-9)


def test_activation_checkpointing_gives_the_same_outputs_and_gradients():
    grads = []
    for with_cp in (False, True):
        model = randomize(tiny(with_cp=with_cp)).train()
        x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0),
                        requires_grad=True)
        sum(out.square().sum() for out in model(x)).backward()
        grads.append([x.grad] + [p.grad for p in model.parameters()])
    for grad, grad_cp in zip(*grads):
        torch.testing.assert_close(grad_cp, grad)
