"""DCNv3 core ops: the PyTorch and mmcv paths agree, and both sample where DCNv3 should."""
import pytest
import torch

from mmsamrs.models.layers import dcnv3 as dcnv3_module
from mmsamrs.models.layers.dcnv3 import DCNv3, dcnv3_core, select_core_impl

KERNEL = 3


def random_case(group, dilation, stride=1, size=(5, 7), group_channels=3, seed=0):
    """Input, offsets (std 3 px, so many points fall outside) and mask, float64."""
    gen = torch.Generator().manual_seed(seed)
    pad = dilation * (KERNEL - 1) // 2
    h_out, w_out = ((s + 2 * pad - dilation * (KERNEL - 1) - 1) // stride + 1 for s in size)
    points = group * KERNEL * KERNEL
    x = torch.randn(2, *size, group * group_channels, generator=gen, dtype=torch.float64)
    offset = 3 * torch.randn(2, h_out, w_out, points * 2, generator=gen, dtype=torch.float64)
    mask = torch.rand(2, h_out, w_out, points, generator=gen, dtype=torch.float64)
    return x, offset, mask, pad


def core_args(group, dilation, stride, pad, group_channels=3, offset_scale=1.0):
    return dict(kernel_size=KERNEL, stride=stride, pad=pad, dilation=dilation, group=group,
                group_channels=group_channels, offset_scale=offset_scale)


@pytest.mark.parametrize('group', [1, 2, 4])
@pytest.mark.parametrize('dilation', [1, 2])
@pytest.mark.parametrize('size,stride,offset_scale', [((5, 7), 1, 1.0), ((6, 4), 1, 0.5),
                                                      ((7, 6), 2, 1.5)])
def test_pytorch_and_mmcv_paths_agree_in_outputs_and_gradients(group, dilation, size,
                                                               stride, offset_scale):
    x, offset, mask, pad = random_case(group, dilation, stride, size)
    args = core_args(group, dilation, stride, pad, offset_scale=offset_scale)
    results = []
    for impl in ('pytorch', 'mmcv'):
        inputs = [t.clone().requires_grad_() for t in (x, offset, mask)]
        out = dcnv3_core(*inputs, **args, impl=impl)
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1),
                              dtype=out.dtype)
        grads = torch.autograd.grad((out * weights).sum(), inputs)
        results.append((out, *grads))
    (out_pt, *grads_pt), (out_mmcv, *grads_mmcv) = results
    assert out_pt.shape == (2, *out_pt.shape[1:3], group * 3)
    torch.testing.assert_close(out_mmcv, out_pt, rtol=1e-10, atol=1e-10)
    for grad_mmcv, grad_pt in zip(grads_mmcv, grads_pt):
        assert grad_pt.abs().sum() > 0
        torch.testing.assert_close(grad_mmcv, grad_pt, rtol=1e-9, atol=1e-9)


def test_some_random_offsets_sample_outside_the_image():
    x, offset, _, pad = random_case(group=2, dilation=2)
    dy = offset.view(2, 5, 7, 2, KERNEL * KERNEL, 2)[..., 1]
    rows = torch.arange(5, dtype=offset.dtype).view(1, 5, 1, 1, 1)
    sampled_row = rows + dy
    assert ((sampled_row < -1) | (sampled_row > 5)).any()


def one_hot_mask(points, shape):
    """(N, H, W, G*K) mask: one-hot on ``points[g]`` for group g."""
    mask = torch.zeros(*shape, len(points), KERNEL * KERNEL, dtype=torch.float64)
    for g, point in enumerate(points):
        mask[..., g, point] = 1
    return mask.flatten(-2)


def shifted(image, dy, dx):
    """``out[y, x] = image[y + dy, x + dx]`` for integer shifts, zero outside (N, H, W, C)."""
    out = torch.zeros_like(image)
    h, w = image.shape[1:3]
    ys, yd = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h + min(-dy, 0))
    xs, xd = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w + min(-dx, 0))
    out[:, yd, xd] = image[:, ys, xs]
    return out


@pytest.mark.parametrize('impl', ['pytorch', 'mmcv'])
@pytest.mark.parametrize('dilation', [1, 2])
def test_one_hot_mask_picks_one_kernel_point(impl, dilation):
    # DCNv3 orders points column-major: point i*3 + j has column i, row j; the group-0
    # point is the centre (4), the others: column 0 row 1 (1), column 2 row 0 (6).
    x = torch.randn(1, 6, 8, 3 * 2, dtype=torch.float64)
    points = [4, 1, 6]
    offset = torch.zeros(1, 6, 8, 3 * KERNEL * KERNEL * 2, dtype=torch.float64)
    pad = dilation
    out = dcnv3_core(x, offset, one_hot_mask(points, (1, 6, 8)),
                     **core_args(3, dilation, 1, pad, group_channels=2), impl=impl)
    d = dilation
    expected = torch.cat([x[..., 0:2], shifted(x[..., 2:4], 0, -d),
                          shifted(x[..., 4:6], -d, d)], dim=-1)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('impl', ['pytorch', 'mmcv'])
def test_offsets_are_x_then_y_pixels_and_sampling_is_bilinear(impl):
    x = torch.randn(1, 5, 6, 2, dtype=torch.float64)
    mask = one_hot_mask([4, 4], (1, 5, 6))
    offset = torch.zeros(1, 5, 6, 2, KERNEL * KERNEL, 2, dtype=torch.float64)
    offset[..., 0, 4, :] = torch.tensor([2., -1.], dtype=torch.float64)  # group 0: x+2, y-1
    offset[..., 1, 4, :] = torch.tensor([0.5, 0.], dtype=torch.float64)  # group 1: x+0.5
    out = dcnv3_core(x, offset.flatten(-3), mask, **core_args(2, 1, 1, 1, group_channels=1),
                     impl=impl)
    half_right = (x[..., 1:] + shifted(x[..., 1:], 0, 1)) / 2  # zero right of the image
    expected = torch.cat([shifted(x[..., :1], -1, 2), half_right], dim=-1)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('impl', ['pytorch', 'mmcv'])
def test_offset_scale_scales_offsets_and_kernel_displacement(impl):
    # As the official CUDA kernel: the point at column 2, row 1 (index 7) is 1 px right of
    # the centre; with offset_scale 2 it samples 2 px right, plus 2 x its 1 px offset down.
    x = torch.randn(1, 7, 7, 1, dtype=torch.float64)
    offset = torch.zeros(1, 7, 7, KERNEL * KERNEL, 2, dtype=torch.float64)
    offset[..., 7, 1] = 1.
    out = dcnv3_core(x, offset.flatten(-2), one_hot_mask([7], (1, 7, 7)),
                     **core_args(1, 1, 1, 1, group_channels=1, offset_scale=2.), impl=impl)
    torch.testing.assert_close(out, shifted(x, 2, 2), rtol=0, atol=1e-12)


def test_auto_picks_pytorch_on_cpu_and_cuda_needs_the_extension(monkeypatch):
    x = torch.zeros(1, 4, 4, 4)
    assert select_core_impl('auto', x) == 'pytorch'
    assert select_core_impl('mmcv', x) == 'mmcv'
    calls = []
    monkeypatch.setitem(dcnv3_module._CORES, 'pytorch', lambda *args: calls.append(args))
    x, offset, mask, pad = random_case(group=1, dilation=1)
    dcnv3_core(x, offset, mask, **core_args(1, 1, 1, pad))
    assert len(calls) == 1
    monkeypatch.setattr(dcnv3_module, 'dcnv3_ext', None)
    with pytest.raises(RuntimeError, match='DCNv3'):
        select_core_impl('cuda', x)
    with pytest.raises(ValueError):
        select_core_impl('triton', x)


def test_mmcv_needs_its_ops(monkeypatch):
    monkeypatch.setattr(dcnv3_module, 'modulated_deform_conv2d', None)
    with pytest.raises(RuntimeError, match='mmcv'):
        select_core_impl('mmcv', torch.zeros(1, 4, 4, 4))


def test_module_has_official_names_and_gives_the_same_outputs_with_either_impl():
    torch.manual_seed(0)
    modules = {impl: DCNv3(channels=16, group=4, core_op_impl=impl).double()
               for impl in ('pytorch', 'mmcv')}
    ref = modules['pytorch']
    assert set(ref.state_dict()) == {
        f'{name}.{p}' for name in ('dw_conv.0', 'dw_conv.1.1', 'offset', 'mask',
                                   'input_proj', 'output_proj') for p in ('weight', 'bias')}
    assert ref.offset.out_features == 4 * 9 * 2 and ref.mask.out_features == 4 * 9
    # The official init predicts zero offsets; give the module real ones (several px).
    with torch.no_grad():
        for layer in (ref.offset, ref.mask, ref.dw_conv[0]):
            layer.weight.normal_(0, 1)
            layer.bias.normal_(0, 1)
    modules['mmcv'].load_state_dict(ref.state_dict())
    x = torch.randn(2, 6, 10, 16, dtype=torch.float64)
    outs = {impl: module(x) for impl, module in modules.items()}
    assert outs['pytorch'].shape == x.shape
    torch.testing.assert_close(outs['mmcv'], outs['pytorch'], rtol=1e-10, atol=1e-10)


def test_module_with_zero_offsets_and_centre_mask_is_a_per_pixel_linear_map():
    # Official init (zero offsets, uniform mask) changed to a mask on the centre point:
    # DCNv3 then reduces to output_proj(input_proj(x)).
    torch.manual_seed(0)
    module = DCNv3(channels=8, group=2).double()
    with torch.no_grad():
        module.mask.bias.view(2, 9)[:, 4] = 100.
    x = torch.randn(1, 5, 6, 8, dtype=torch.float64)
    torch.testing.assert_close(module(x), module.output_proj(module.input_proj(x)))
