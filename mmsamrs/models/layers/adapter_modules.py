"""ViT-Adapter's modules: spatial prior module, injector, extractor, interaction block.

Their parameter names are those of the official implementation (czczup/ViT-Adapter,
``segmentation/mmseg_custom/models/backbones/adapter_modules.py`` and
``segmentation/ops/modules/ms_deform_attn.py``), so the adapter part of ViT-Adapter's released
checkpoints loads without renaming. The multi-scale deformable attention samples through
mmcv's operators (:func:`multi_scale_deformable_attention`): the compiled CUDA kernel for
CUDA tensors, mmcv's ``grid_sample`` implementation otherwise.
"""
import math
from typing import List, NamedTuple, Sequence, Tuple

import torch
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmcv.ops.multi_scale_deform_attn import (MultiScaleDeformableAttnFunction,
                                              multi_scale_deformable_attn_pytorch)
from mmengine.model.weight_init import constant_init, xavier_init
from torch import Tensor, nn

Shape = Tuple[int, int]

DEFORM_ATTN_IMPLS = ('auto', 'pytorch', 'mmcv')


def check_impl(impl: str) -> None:
    """Raise ``ValueError`` unless ``impl`` names a deformable-attention implementation."""
    if impl not in DEFORM_ATTN_IMPLS:
        raise ValueError(f'impl must be one of {DEFORM_ATTN_IMPLS}, got {impl!r}')


def multi_scale_deformable_attention(value: Tensor, spatial_shapes: Tensor,
                                     level_start_index: Tensor, sampling_locations: Tensor,
                                     attention_weights: Tensor, impl: str = 'auto',
                                     im2col_step: int = 64) -> Tensor:
    """Multi-scale deformable attention sampling through mmcv, by the chosen implementation.

    Args:
        value: (B, sum of h*w, heads, head_dim) values of all levels, level after level.
        spatial_shapes: (levels, 2) long tensor of each level's (h, w).
        level_start_index: (levels,) long tensor, where each level starts in ``value``.
        sampling_locations: (B, queries, heads, levels, points, 2) normalised (x, y) in [0, 1].
        attention_weights: (B, queries, heads, levels, points), summing to 1 per query/head.
        impl: ``'mmcv'``: mmcv's compiled ``MultiScaleDeformableAttnFunction`` (CUDA only in
            this build; other devices raise); ``'pytorch'``: mmcv's
            ``multi_scale_deformable_attn_pytorch`` (``grid_sample``); ``'auto'``: the
            compiled kernel when ``value`` is on CUDA, else the PyTorch path.
        im2col_step: Batch chunk of the compiled kernel.

    Returns:
        (B, queries, heads * head_dim).
    """
    check_impl(impl)
    if impl == 'mmcv' or (impl == 'auto' and value.is_cuda):
        if not value.is_cuda:
            raise RuntimeError(
                "impl='mmcv' runs mmcv's compiled multi-scale deformable attention, whose "
                f'kernel exists for CUDA tensors only, but value is on {value.device}; '
                "use impl='pytorch' or impl='auto'")
        return MultiScaleDeformableAttnFunction.apply(value, spatial_shapes, level_start_index,
                                                      sampling_locations, attention_weights,
                                                      im2col_step)
    return multi_scale_deformable_attn_pytorch(value, spatial_shapes, sampling_locations,
                                               attention_weights)


class DeformableInputs(NamedTuple):
    """Where the queries of a deformable attention sit and how its values are laid out.

    Attributes:
        reference_points: (1, queries, 1, 2) normalised (x, y) centre of each query's cell.
        query_shapes: The (h, w) of the query levels, in token order.
        spatial_shapes: (levels, 2) long tensor of the value levels' (h, w).
        level_start_index: (levels,) long tensor, first token of each value level.
    """

    reference_points: Tensor
    query_shapes: List[Shape]
    spatial_shapes: Tensor
    level_start_index: Tensor


def deformable_inputs(query_shapes: Sequence[Shape], value_shapes: Sequence[Shape],
                      device: torch.device) -> DeformableInputs:
    """Reference points of queries on the grids ``query_shapes``, attending to ``value_shapes``.

    Each query's reference point is the centre of its cell, normalised to [0, 1] by its own
    grid, so it marks the same image location on every value level.
    """
    points = []
    for h, w in query_shapes:
        ys = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) / h
        xs = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) / w
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
        points.append(torch.stack((grid_x, grid_y), -1).reshape(-1, 2))
    spatial_shapes = torch.as_tensor(value_shapes, dtype=torch.long, device=device)
    sizes = spatial_shapes.prod(1)
    level_start_index = torch.cat((sizes.new_zeros(1), sizes.cumsum(0)[:-1]))
    return DeformableInputs(torch.cat(points)[None, :, None], list(query_shapes),
                            spatial_shapes, level_start_index)


class MSDeformAttn(nn.Module):
    """Multi-scale deformable attention of Deformable DETR with ViT-Adapter's value ``ratio``.

    Each query predicts, per head, ``n_points`` offsets (in cells of each level) around its
    reference point on each of ``n_levels`` value levels and softmax weights over those
    ``n_levels * n_points`` samples; the values are projected to ``int(d_model * ratio)``
    channels before sampling and back to ``d_model`` after.

    Args:
        d_model: Query and value width.
        n_levels: Number of value levels.
        n_heads: Attention heads.
        n_points: Sampling points per head and level.
        ratio: Width of the value projection over ``d_model`` (ViT-Adapter's
            ``deform_ratio``).
        impl: Sampling implementation, see :func:`multi_scale_deformable_attention`.
        im2col_step: Batch chunk of the compiled kernel.
    """

    def __init__(self, d_model: int = 256, n_levels: int = 4, n_heads: int = 8,
                 n_points: int = 4, ratio: float = 1.0, impl: str = 'auto',
                 im2col_step: int = 64) -> None:
        super().__init__()
        value_dim = int(d_model * ratio)
        if value_dim % n_heads != 0:
            raise ValueError(f'value width {value_dim} (d_model * ratio) must be divisible by '
                             f'n_heads={n_heads}')
        check_impl(impl)
        self.n_levels = n_levels
        self.n_heads = n_heads
        self.n_points = n_points
        self.impl = impl
        self.im2col_step = im2col_step
        self.sampling_offsets = nn.Linear(d_model, n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model, n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, value_dim)
        self.output_proj = nn.Linear(value_dim, d_model)
        self.init_weights()

    def init_weights(self) -> None:
        """Deformable DETR's init: offsets fan out from the reference point, one direction per
        head and ``i + 1`` cells for point ``i``; uniform attention; Xavier projections."""
        constant_init(self.sampling_offsets, 0.0)
        angles = torch.arange(self.n_heads, dtype=torch.float32) * (2.0 * math.pi / self.n_heads)
        directions = torch.stack([angles.cos(), angles.sin()], -1)
        directions = directions / directions.abs().max(-1, keepdim=True)[0]
        steps = torch.arange(1, self.n_points + 1, dtype=torch.float32)
        grid = directions[:, None, None, :] * steps[None, None, :, None]
        grid = grid.expand(self.n_heads, self.n_levels, self.n_points, 2)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(grid.reshape(-1))
        constant_init(self.attention_weights, 0.0)
        xavier_init(self.value_proj, distribution='uniform', bias=0.0)
        xavier_init(self.output_proj, distribution='uniform', bias=0.0)

    def forward(self, query: Tensor, value: Tensor, inputs: DeformableInputs) -> Tensor:
        """Attend from ``query`` (B, queries, C) to ``value`` (B, sum of h*w, C).

        ``inputs`` gives the queries' reference points and the value levels' layout.
        """
        b, num_queries, _ = query.shape
        value = self.value_proj(value).view(b, value.shape[1], self.n_heads, -1)
        offsets = self.sampling_offsets(query).view(b, num_queries, self.n_heads, self.n_levels,
                                                    self.n_points, 2)
        weights = self.attention_weights(query).view(b, num_queries, self.n_heads, -1)
        weights = weights.softmax(-1).view(b, num_queries, self.n_heads, self.n_levels,
                                           self.n_points)
        cells_per_unit = inputs.spatial_shapes.flip(-1)[None, None, None, :, None, :]
        locations = (inputs.reference_points[:, :, None, :, None, :]
                     + offsets / cells_per_unit)
        output = multi_scale_deformable_attention(value, inputs.spatial_shapes,
                                                  inputs.level_start_index, locations, weights,
                                                  self.impl, self.im2col_step)
        return self.output_proj(output)


class MultiLevelDWConv(nn.Module):
    """One 3x3 depth-wise convolution applied to each level of a multi-level token sequence."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x: Tensor, shapes: Sequence[Shape]) -> Tensor:
        """(B, sum of h*w, C) tokens of the levels ``shapes`` -> same shape."""
        b, _, c = x.shape
        levels = x.split([h * w for h, w in shapes], dim=1)
        return torch.cat([
            self.dwconv(level.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)
            for level, (h, w) in zip(levels, shapes)
        ], dim=1)


class ConvFFN(nn.Module):
    """ViT-Adapter's feed-forward: ``fc1``, depth-wise conv per level, GELU, ``fc2``."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.dwconv = MultiLevelDWConv(hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: Tensor, shapes: Sequence[Shape]) -> Tensor:
        """(B, sum of h*w, C) tokens of the levels ``shapes`` -> same shape."""
        return self.fc2(self.act(self.dwconv(self.fc1(x), shapes)))


class Injector(nn.Module):
    """Spatial feature injector: ViT tokens attend to the adapter's multi-level features.

    ``x + gamma * attn(query_norm(x), feat_norm(c))``; ``gamma`` starts at ``init_values``.

    Args:
        dim: Token width.
        num_heads: Deformable-attention heads.
        n_points: Sampling points per head and level.
        n_levels: Adapter feature levels.
        deform_ratio: Value-projection width ratio of the deformable attention.
        init_values: Initial value of the per-channel scale ``gamma``.
        impl: Deformable-attention implementation.
    """

    def __init__(self, dim: int, num_heads: int, n_points: int = 4, n_levels: int = 3,
                 deform_ratio: float = 1.0, init_values: float = 0.0,
                 impl: str = 'auto') -> None:
        super().__init__()
        self.query_norm = nn.LayerNorm(dim, eps=1e-6)
        self.feat_norm = nn.LayerNorm(dim, eps=1e-6)
        self.attn = MSDeformAttn(dim, n_levels, num_heads, n_points, deform_ratio, impl)
        self.gamma = nn.Parameter(torch.full((dim, ), float(init_values)))

    def forward(self, query: Tensor, feat: Tensor, inputs: DeformableInputs) -> Tensor:
        """ViT tokens ``query`` updated from the adapter tokens ``feat``."""
        attn = self.attn(self.query_norm(query), self.feat_norm(feat), inputs)
        return query + self.gamma * attn


class Extractor(nn.Module):
    """Multi-scale feature extractor: adapter tokens attend to the ViT tokens, then ConvFFN.

    Args:
        dim: Token width.
        num_heads: Deformable-attention heads.
        n_points: Sampling points per head.
        deform_ratio: Value-projection width ratio of the deformable attention.
        with_cffn: Follow the attention with a residual :class:`ConvFFN`.
        cffn_ratio: Hidden width of the ConvFFN over ``dim``.
        drop_path: Stochastic-depth rate of the ConvFFN branch.
        impl: Deformable-attention implementation.
    """

    def __init__(self, dim: int, num_heads: int, n_points: int = 4, deform_ratio: float = 1.0,
                 with_cffn: bool = True, cffn_ratio: float = 0.25, drop_path: float = 0.0,
                 impl: str = 'auto') -> None:
        super().__init__()
        self.query_norm = nn.LayerNorm(dim, eps=1e-6)
        self.feat_norm = nn.LayerNorm(dim, eps=1e-6)
        self.attn = MSDeformAttn(dim, 1, num_heads, n_points, deform_ratio, impl)
        self.with_cffn = with_cffn
        if with_cffn:
            self.ffn = ConvFFN(dim, int(dim * cffn_ratio))
            self.ffn_norm = nn.LayerNorm(dim, eps=1e-6)
            self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, query: Tensor, feat: Tensor, inputs: DeformableInputs) -> Tensor:
        """Adapter tokens ``query`` (levels ``inputs.query_shapes``) updated from ViT ``feat``."""
        query = query + self.attn(self.query_norm(query), self.feat_norm(feat), inputs)
        if self.with_cffn:
            query = query + self.drop_path(
                self.ffn(self.ffn_norm(query), inputs.query_shapes))
        return query


class InteractionBlock(nn.Module):
    """Injector, a run of ViT blocks, extractor (and, in the last block, two extra extractors).

    Args:
        dim: Token width.
        num_heads: Deformable-attention heads.
        n_points: Sampling points per head and level.
        drop_path: Stochastic-depth rate of the extractors' ConvFFN.
        with_cffn: Extractors have a ConvFFN.
        cffn_ratio: Hidden width of the ConvFFN over ``dim``.
        init_values: Initial injector scale ``gamma``.
        deform_ratio: Value-projection width ratio of the deformable attentions.
        extra_extractor: Add the two extra extractors of ViT-Adapter's last interaction.
        impl: Deformable-attention implementation.
    """

    def __init__(self, dim: int, num_heads: int, n_points: int = 4, drop_path: float = 0.0,
                 with_cffn: bool = True, cffn_ratio: float = 0.25, init_values: float = 0.0,
                 deform_ratio: float = 1.0, extra_extractor: bool = False,
                 impl: str = 'auto') -> None:
        super().__init__()
        self.injector = Injector(dim, num_heads, n_points, 3, deform_ratio, init_values, impl)

        def extractor() -> Extractor:
            return Extractor(dim, num_heads, n_points, deform_ratio, with_cffn, cffn_ratio,
                             drop_path, impl)

        self.extractor = extractor()
        self.extra_extractors = nn.ModuleList(
            [extractor() for _ in range(2)] if extra_extractor else [])

    def forward(self, x: Tensor, c: Tensor, blocks: nn.ModuleList, grid: Shape,
                injector_inputs: DeformableInputs,
                extractor_inputs: DeformableInputs) -> Tuple[Tensor, Tensor]:
        """ViT tokens ``x`` (on ``grid``) and adapter tokens ``c`` after one interaction."""
        x = self.injector(x, c, injector_inputs)
        for block in blocks:
            x = block(x, grid)
        for extractor in [self.extractor, *self.extra_extractors]:
            c = extractor(c, x, extractor_inputs)
        return x, c


class SpatialPriorModule(nn.Module):
    """Convolutional stem giving the adapter's features at strides 4, 8, 16 and 32.

    A ResNet-like stem (three 3x3 convs, max-pool) then three stride-2 convs, each followed
    by a 1x1 projection (``fc1``..``fc4``) to ``embed_dim``.

    Args:
        in_channels: Image channels.
        inplanes: Width of the stem (doubled, then quadrupled, in the deeper stages).
        embed_dim: Output width.
        norm_cfg: Normalisation after each conv (ViT-Adapter uses SyncBN).
    """

    def __init__(self, in_channels: int = 3, inplanes: int = 64, embed_dim: int = 384,
                 norm_cfg: dict = dict(type='SyncBN', requires_grad=True)) -> None:
        super().__init__()

        def conv_norm_relu(cin: int, cout: int, stride: int) -> List[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                    build_norm_layer(norm_cfg, cout)[1], nn.ReLU(inplace=True)]

        self.stem = nn.Sequential(*conv_norm_relu(in_channels, inplanes, 2),
                                  *conv_norm_relu(inplanes, inplanes, 1),
                                  *conv_norm_relu(inplanes, inplanes, 1),
                                  nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.conv2 = nn.Sequential(*conv_norm_relu(inplanes, 2 * inplanes, 2))
        self.conv3 = nn.Sequential(*conv_norm_relu(2 * inplanes, 4 * inplanes, 2))
        self.conv4 = nn.Sequential(*conv_norm_relu(4 * inplanes, 4 * inplanes, 2))
        self.fc1 = nn.Conv2d(inplanes, embed_dim, 1)
        self.fc2 = nn.Conv2d(2 * inplanes, embed_dim, 1)
        self.fc3 = nn.Conv2d(4 * inplanes, embed_dim, 1)
        self.fc4 = nn.Conv2d(4 * inplanes, embed_dim, 1)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Image (B, 3, H, W) -> four (B, embed_dim, H/s, W/s) maps, s = 4, 8, 16, 32."""
        c1 = self.stem(x)
        c2 = self.conv2(c1)
        c3 = self.conv3(c2)
        c4 = self.conv4(c3)
        return self.fc1(c1), self.fc2(c2), self.fc3(c3), self.fc4(c4)
