"""DCNv3, the deformable convolution of InternImage, with three interchangeable core ops.

The core op samples, for every output pixel, ``kernel_size**2`` points per channel group at
the kernel's positions moved by learned offsets, and sums them weighted by a learned mask.
Its tensors are channels-last, as in the official code (OpenGVLab/InternImage,
``ops_dcnv3``):

- ``input``: (N, H, W, G*C_g); ``output``: (N, H_out, W_out, G*C_g);
- ``offset``: (N, H_out, W_out, G*K*2), an (x, y) pair per group and kernel point;
- ``mask``: (N, H_out, W_out, G*K);

with the K kernel points in the official order: column-major, the point with column ``i``
and row ``j`` at index ``i * kernel_size + j``. In input pixel coordinates (integers at
pixel centres) that point of output pixel (y, x) of group g samples, bilinearly with zeros
outside the image,

    x_s = x*stride - pad + c + (i*dilation - c + offset_x) * offset_scale
    y_s = y*stride - pad + c + (j*dilation - c + offset_y) * offset_scale,

where ``c = dilation * (kernel_size - 1) // 2``: ``offset_scale`` scales the kernel's own
displacement as well as the offsets (this is what the official CUDA kernel computes).

:func:`dcnv3_core` runs one of three implementations, chosen per call by ``impl``:

- ``'cuda'``: the official compiled extension (python module ``DCNv3``, built from
  InternImage's ``ops_dcnv3``); CUDA tensors only;
- ``'mmcv'``: mmcv's compiled ``modulated_deform_conv2d`` (CPU and CUDA): the core is a
  depthwise modulated deformable convolution with ``deform_groups=G`` and an all-ones
  weight, once the offsets and mask are reordered to mmcv's layout (row-major kernel points,
  (dy, dx) pairs, channels-first) and the offsets rescaled (see :func:`dcnv3_core_mmcv`);
- ``'pytorch'``: plain PyTorch around ``grid_sample``; needs nothing compiled;
- ``'auto'`` (default): ``'cuda'`` for CUDA tensors when ``DCNv3`` imports, else
  ``'pytorch'``. mmcv's op is exact but not the faster fallback: it runs one small matrix
  product per channel, and on CPU (InternImage-T stage widths, 224 x 224, batch 2) it took
  3x the time of ``'pytorch'`` forward and 5x forward + backward.

All three give the same outputs and gradients up to float rounding.
"""
import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from torch import Tensor, nn
from torch.autograd import Function
from torch.autograd.function import FunctionCtx, once_differentiable

try:
    import DCNv3 as dcnv3_ext
except ImportError:
    dcnv3_ext = None

try:
    from mmcv.ops import modulated_deform_conv2d
except ImportError:
    modulated_deform_conv2d = None

CORE_IMPLS = ('auto', 'cuda', 'mmcv', 'pytorch')
_IM2COL_STEP = 256  # images per launch of the official CUDA kernel, as in its module


def kernel_displacements(kernel_size: int, dilation: int, dtype: torch.dtype,
                         device: torch.device) -> Tensor:
    """The kernel points' (x, y) displacements from the centre, (K, 2), in DCNv3's order."""
    steps = torch.arange(kernel_size, dtype=dtype, device=device) * dilation
    steps = steps - dilation * (kernel_size - 1) // 2
    dx, dy = torch.meshgrid(steps, steps, indexing='ij')
    return torch.stack([dx, dy], dim=-1).reshape(-1, 2)


def dcnv3_core_pytorch(input: Tensor, offset: Tensor, mask: Tensor, kernel_size: int,
                       stride: int, pad: int, dilation: int, group: int, group_channels: int,
                       offset_scale: float) -> Tensor:
    """The DCNv3 core in plain PyTorch: bilinear ``grid_sample`` of every point, then the sum.

    Arguments and shapes as in :func:`dcnv3_core`.
    """
    n, h_in, w_in, _ = input.shape
    _, h_out, w_out, _ = offset.shape
    points = kernel_size * kernel_size
    kwargs = dict(dtype=input.dtype, device=input.device)
    centre = dilation * (kernel_size - 1) // 2
    ref_y = torch.arange(h_out, **kwargs) * stride - pad + centre
    ref_x = torch.arange(w_out, **kwargs) * stride - pad + centre
    ref = torch.stack(torch.meshgrid(ref_x, ref_y, indexing='xy'), dim=-1)
    displacement = kernel_displacements(kernel_size, dilation, **kwargs)
    offset = offset.reshape(n, h_out, w_out, group, points, 2)
    location = ref[:, :, None, None] + (displacement + offset) * offset_scale
    # pixel coordinates -> [-1, 1] of grid_sample with align_corners=False
    size = torch.tensor([w_in, h_in], **kwargs)
    grid = (2 * location + 1) / size - 1
    grid = grid.permute(0, 3, 1, 2, 4, 5).reshape(n * group, h_out * w_out, points, 2)
    value = input.permute(0, 3, 1, 2).reshape(n * group, group_channels, h_in, w_in)
    sampled = F.grid_sample(value, grid, mode='bilinear', padding_mode='zeros',
                            align_corners=False)
    mask = mask.reshape(n, h_out * w_out, group, points).permute(0, 2, 1, 3)
    mask = mask.reshape(n * group, 1, h_out * w_out, points)
    output = (sampled * mask).sum(-1).view(n, group * group_channels, h_out, w_out)
    return output.permute(0, 2, 3, 1)


def dcnv3_core_mmcv(input: Tensor, offset: Tensor, mask: Tensor, kernel_size: int,
                    stride: int, pad: int, dilation: int, group: int, group_channels: int,
                    offset_scale: float) -> Tensor:
    """The DCNv3 core through mmcv's modulated deformable convolution.

    mmcv samples point (row j, column i) of output pixel (y, x) at
    ``(y*stride - pad + j*dilation + dy, x*stride - pad + i*dilation + dx)``; matching
    DCNv3's position (module docstring) takes ``d = offset_scale * offset +
    (offset_scale - 1) * displacement`` (the second term vanishes for ``offset_scale=1``).
    Each channel is convolved alone (``groups=channels``) with an all-ones kernel, so the
    convolution is the mask-weighted sum of the samples. Arguments as in :func:`dcnv3_core`.
    """
    n, h_out, w_out, _ = offset.shape
    channels = group * group_channels
    displacement = kernel_displacements(kernel_size, dilation, offset.dtype, offset.device)
    offset = offset.reshape(n, h_out, w_out, group, kernel_size * kernel_size, 2)
    offset = offset * offset_scale + displacement * (offset_scale - 1)
    # points (column, row) -> (row, column) and pairs (x, y) -> (y, x)
    offset = offset.view(n, h_out, w_out, group, kernel_size, kernel_size, 2)
    offset = offset.transpose(4, 5).flip(-1).reshape(n, h_out, w_out, -1)
    mask = mask.reshape(n, h_out, w_out, group, kernel_size, kernel_size).transpose(4, 5)
    mask = mask.reshape(n, h_out, w_out, -1)
    weight = input.new_ones(channels, 1, kernel_size, kernel_size)
    output = modulated_deform_conv2d(
        input.permute(0, 3, 1, 2).contiguous(), offset.permute(0, 3, 1, 2).contiguous(),
        mask.permute(0, 3, 1, 2).contiguous(), weight, None, stride, pad, dilation, channels,
        group)
    return output.permute(0, 2, 3, 1)


class DCNv3CudaFunction(Function):
    """Autograd wrapper of the official compiled op (``DCNv3.dcnv3_forward/backward``)."""

    @staticmethod
    @torch.amp.custom_fwd(device_type='cuda')
    def forward(ctx: FunctionCtx, input: Tensor, offset: Tensor, mask: Tensor,
                kernel_size: int, stride: int, pad: int, dilation: int, group: int,
                group_channels: int, offset_scale: float) -> Tensor:
        """Run the compiled forward (its current signature, with ``remove_center=0``)."""
        ctx.args = (kernel_size, kernel_size, stride, stride, pad, pad, dilation, dilation,
                    group, group_channels, offset_scale)
        ctx.save_for_backward(input, offset, mask)
        return dcnv3_ext.dcnv3_forward(input, offset, mask, *ctx.args, _IM2COL_STEP, 0)

    @staticmethod
    @once_differentiable
    @torch.amp.custom_bwd(device_type='cuda')
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple:
        """Gradients of input, offset and mask from the compiled backward."""
        input, offset, mask = ctx.saved_tensors
        grad_input, grad_offset, grad_mask = dcnv3_ext.dcnv3_backward(
            input, offset, mask, *ctx.args, grad_output.contiguous(), _IM2COL_STEP, 0)
        return (grad_input, grad_offset, grad_mask) + (None, ) * 7


def dcnv3_core_cuda(input: Tensor, offset: Tensor, mask: Tensor, kernel_size: int,
                    stride: int, pad: int, dilation: int, group: int, group_channels: int,
                    offset_scale: float) -> Tensor:
    """The DCNv3 core through the official compiled CUDA op. Arguments as in :func:`dcnv3_core`.
    """
    return DCNv3CudaFunction.apply(input.contiguous(), offset.contiguous(),
                                   mask.contiguous(), kernel_size, stride, pad, dilation,
                                   group, group_channels, offset_scale)


_CORES = dict(cuda=dcnv3_core_cuda, mmcv=dcnv3_core_mmcv, pytorch=dcnv3_core_pytorch)


def select_core_impl(impl: str, input: Tensor) -> str:
    """The implementation that ``impl`` (one of :data:`CORE_IMPLS`) runs for ``input``."""
    if impl not in CORE_IMPLS:
        raise ValueError(f'DCNv3 core impl must be one of {CORE_IMPLS}, got {impl!r}')
    if impl == 'auto':
        return 'cuda' if dcnv3_ext is not None and input.is_cuda else 'pytorch'
    if impl == 'cuda' and dcnv3_ext is None:
        raise RuntimeError("DCNv3 core impl 'cuda' needs the compiled extension 'DCNv3' "
                           "(build InternImage's ops_dcnv3)")
    if impl == 'mmcv' and modulated_deform_conv2d is None:
        raise RuntimeError("DCNv3 core impl 'mmcv' needs mmcv built with its ops")
    return impl


def dcnv3_core(input: Tensor, offset: Tensor, mask: Tensor, kernel_size: int, stride: int,
               pad: int, dilation: int, group: int, group_channels: int,
               offset_scale: float, impl: str = 'auto') -> Tensor:
    """Deformable sampling of DCNv3 (layouts and positions in the module docstring).

    Args:
        input: (N, H, W, group * group_channels), channels-last.
        offset: (N, H_out, W_out, group * kernel_size**2 * 2), (x, y) pairs.
        mask: (N, H_out, W_out, group * kernel_size**2), the points' weights.
        kernel_size: Side of the square kernel.
        stride: Stride of the output grid.
        pad: Zero padding of the input on every side.
        dilation: Spacing of the kernel points.
        group: Number of channel groups, each with its own offsets and mask.
        group_channels: Channels per group.
        offset_scale: Factor on the offsets and the kernel displacements.
        impl: ``'auto'``, ``'cuda'``, ``'mmcv'`` or ``'pytorch'`` (module docstring).

    Returns:
        (N, H_out, W_out, group * group_channels).
    """
    core = _CORES[select_core_impl(impl, input)]
    return core(input, offset, mask, kernel_size, stride, pad, dilation, group,
                group_channels, offset_scale)


class Permute(nn.Module):
    """Permute the dimensions of a tensor (channels-first <-> channels-last)."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        """``x.permute(*dims)``."""
        return x.permute(*self.dims)


def build_format_norm(channels: int, norm_layer: str, in_format: str,
                      out_format: str) -> nn.Sequential:
    """A norm between data formats, in the official InternImage's nested layout.

    ``'LN'`` (eps 1e-6) normalises channels-last and ``'BN'`` channels-first tensors;
    permutes are added before and after as ``in_format``/``out_format``
    (``'channels_first'`` or ``'channels_last'``) need, so that checkpoint keys read
    ``<name>.<index of the norm>.weight`` as in the official ``build_norm_layer``.
    """
    if norm_layer not in ('LN', 'BN'):
        raise ValueError(f"norm_layer must be 'LN' or 'BN', got {norm_layer!r}")
    norm_format = 'channels_last' if norm_layer == 'LN' else 'channels_first'
    to_format = dict(channels_first=Permute(0, 3, 1, 2), channels_last=Permute(0, 2, 3, 1))
    cfg = dict(type='LN', eps=1e-6) if norm_layer == 'LN' else dict(type='BN')
    layers = [] if in_format == norm_format else [to_format[norm_format]]
    layers.append(build_norm_layer(cfg, channels)[1])
    if out_format != norm_format:
        layers.append(to_format[out_format])
    return nn.Sequential(*layers)


class DCNv3(nn.Module):
    """The DCNv3 operator of InternImage: channels-last (N, H, W, C) in and out.

    A depthwise conv + norm + GELU (``dw_conv``) over the input predicts, per pixel, the
    offsets (``offset``) and softmax-normalised mask (``mask``) of ``group`` channel groups;
    the core op samples the projected input (``input_proj``) with them and ``output_proj``
    mixes the result. Parameter names are those of the official ``ops_dcnv3.modules.DCNv3``,
    so InternImage checkpoints load as they are. Stride is 1 and padding keeps the size.

    Args:
        channels: Input and output channels.
        kernel_size: Side of the sampling kernel (and of the depthwise conv).
        dilation: Spacing of the kernel points.
        group: Channel groups with their own offsets and mask.
        offset_scale: Factor on the offsets (see :func:`dcnv3_core`).
        norm_layer: ``'LN'`` or ``'BN'``, the norm in ``dw_conv``.
        core_op_impl: Which core op to run, see :func:`dcnv3_core` (``'auto'`` by default).
    """

    def __init__(self, channels: int = 64, kernel_size: int = 3, dilation: int = 1,
                 group: int = 4, offset_scale: float = 1.0, norm_layer: str = 'LN',
                 core_op_impl: str = 'auto') -> None:
        super().__init__()
        if channels % group != 0:
            raise ValueError(f'channels ({channels}) must be divisible by group ({group})')
        if core_op_impl not in CORE_IMPLS:
            raise ValueError(f'core_op_impl must be one of {CORE_IMPLS}, got {core_op_impl!r}')
        self.channels = channels
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.pad = dilation * (kernel_size - 1) // 2
        self.group = group
        self.group_channels = channels // group
        self.offset_scale = offset_scale
        self.core_op_impl = core_op_impl
        self.dw_conv = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2,
                      groups=channels),
            build_format_norm(channels, norm_layer, 'channels_first', 'channels_last'),
            build_activation_layer(dict(type='GELU')))
        points = group * kernel_size * kernel_size
        self.offset = nn.Linear(channels, points * 2)
        self.mask = nn.Linear(channels, points)
        self.input_proj = nn.Linear(channels, channels)
        self.output_proj = nn.Linear(channels, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Official init: zero offsets and uniform mask, Xavier-uniform projections."""
        for layer in (self.offset, self.mask):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        for layer in (self.input_proj, self.output_proj):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, input: Tensor) -> Tensor:
        """(N, H, W, C) -> (N, H, W, C)."""
        n, h, w, _ = input.shape
        x = self.input_proj(input)
        features = self.dw_conv(input.permute(0, 3, 1, 2))
        offset = self.offset(features)
        mask = self.mask(features).view(n, h, w, self.group, -1).softmax(-1)
        x = dcnv3_core(x, offset, mask.view(n, h, w, -1).type_as(x), self.kernel_size, 1,
                       self.pad, self.dilation, self.group, self.group_channels,
                       self.offset_scale, self.core_op_impl)
        return self.output_proj(x)

