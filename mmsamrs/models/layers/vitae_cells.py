"""The cells of ViTAEv2 (Zhang et al., 2022): reduction cells, normal cells, their token mixers.

A reduction cell (RC) downsamples: a pyramid reduction module (PRM, parallel dilated strided
convolutions) makes the tokens and an attention block mixes them, while a parallel
convolution module (PCM) of strided convolutions adds local detail. A normal cell (NC) is a
pre-norm transformer block whose attention branch runs beside a PCM of grouped convolutions.
The token mixers are global attention or non-shifted window attention, as in the official
``ViTAE_Window_NoShift`` code of ViTAE-Transformer(-Remote-Sensing); module and parameter
names follow that code (``PRM.convs.N.0``, ``PCM.N``, ``attn.qkv``, ``mlp.fc1``...) so that
its public checkpoints load as they are.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmseg.models.utils import nchw_to_nlc, nlc_to_nchw
from torch import Tensor, nn

from .vit_blocks import Block, Mlp

#: The token mixers of the cells: global attention, or attention in non-shifted windows.
TOKEN_TYPES = ('transformer', 'window')


def multihead_attention(qkv: Tensor, num_heads: int,
                        bias: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Multi-head softmax attention of packed projections (B, N, 3 * C).

    Returns the head-merged output and values, both (B, N, C). ``bias`` (broadcastable to
    (B, heads, N, N)) is added to the attention logits.
    """
    b, n, _ = qkv.shape
    q, k, v = qkv.reshape(b, n, 3, num_heads, -1).permute(2, 0, 3, 1, 4)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    return out.transpose(1, 2).reshape(b, n, -1), v.transpose(1, 2).reshape(b, n, -1)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside non-overlapping, non-shifted square windows.

    The (h, w) token grid is zero-padded at the bottom and right to a multiple of the window
    (after the cell's pre-norm, so padded tokens attend and are attended to with the
    projection biases, as in the official code), cut into windows, and cropped back.

    Args:
        in_dim: Input token width.
        out_dim: Output token width (a reduction cell widens the tokens here).
        num_heads: Attention heads.
        window_size: Window side.
        qkv_bias: Bias on the query/key/value projection.
        relative_pos: Add a learned relative position bias (Swin's table, one value per head
            and relative offset). The official ViTAEv2 models create the table but only use
            it with ``relative_pos=True``, which none of the released models sets.
    """

    def __init__(self, in_dim: int, out_dim: int, num_heads: int, window_size: int,
                 qkv_bias: bool = True, relative_pos: bool = False) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.window_size = window_size
        self.qkv = nn.Linear(in_dim, out_dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(out_dim, out_dim)
        self.relative_pos = relative_pos
        if relative_pos:
            side = 2 * window_size - 1
            self.relative_position_bias_table = nn.Parameter(torch.zeros(side * side, num_heads))
            coords = torch.stack(torch.meshgrid(torch.arange(window_size),
                                                torch.arange(window_size), indexing='ij'))
            offsets = (coords.flatten(1)[:, :, None] - coords.flatten(1)[:, None, :]) + side // 2
            self.register_buffer('relative_position_index', offsets[0] * side + offsets[1],
                                 persistent=False)

    def position_bias(self) -> Optional[Tensor]:
        """The (heads, ws*ws, ws*ws) relative position bias, or None without one."""
        if not self.relative_pos:
            return None
        bias = self.relative_position_bias_table[self.relative_position_index]
        return bias.permute(2, 0, 1)

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tensor:
        """(B, h*w, in_dim) tokens of an (h, w) grid -> (B, h*w, out_dim)."""
        b, _, c = x.shape
        h, w = hw
        ws = self.window_size
        x = F.pad(x.view(b, h, w, c), (0, 0, 0, -w % ws, 0, -h % ws))
        rows, cols = x.shape[1] // ws, x.shape[2] // ws
        windows = x.view(b, rows, ws, cols, ws, c).transpose(2, 3).reshape(-1, ws * ws, c)
        out, _ = multihead_attention(self.qkv(windows), self.num_heads, self.position_bias())
        out = self.proj(out).view(b, rows, cols, ws, ws, -1).transpose(2, 3)
        out = out.reshape(b, rows * ws, cols * ws, -1)[:, :h, :w]
        return out.reshape(b, h * w, -1)


class ValueResidualAttention(nn.Module):
    """Global multi-head self-attention from ``in_dim`` to ``out_dim`` plus the values.

    The attention of T2T-ViT's token transformer, used by reduction cells of type
    ``'transformer'``: the input and output widths differ, so the (merged-head) values
    stand in for the input as the residual.

    Args:
        in_dim: Input token width.
        out_dim: Output token width.
        num_heads: Attention heads.
        qkv_bias: Bias on the query/key/value projection (off in the official cells).
    """

    def __init__(self, in_dim: int, out_dim: int, num_heads: int,
                 qkv_bias: bool = False) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(in_dim, out_dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(out_dim, out_dim)

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tensor:
        """(B, N, in_dim) -> (B, N, out_dim); ``hw`` is unused by global attention."""
        out, values = multihead_attention(self.qkv(x), self.num_heads)
        return values + self.proj(out)


class PyramidReduction(nn.Module):
    """PRM: parallel strided convolutions of one kernel at several dilations, concatenated.

    Each branch is a ``kernel_size`` convolution with stride ``downsample_ratio`` and its
    dilation, followed by GELU; the padding keeps all branches on the same output grid.

    Args:
        in_channels: Input channels.
        embed_dim: Channels of each branch (the output has ``embed_dim * len(dilations)``).
        kernel_size: Kernel side.
        downsample_ratio: Stride.
        dilations: One branch per dilation.
    """

    def __init__(self, in_channels: int, embed_dim: int, kernel_size: int,
                 downsample_ratio: int, dilations: Sequence[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(in_channels, embed_dim, kernel_size, stride=downsample_ratio,
                          padding=math.ceil(((kernel_size - 1) * d + 1 - downsample_ratio) / 2),
                          dilation=d), nn.GELU()) for d in dilations)
        self.out_channels = embed_dim * len(dilations)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, embed_dim * branches, H / ratio, W / ratio)."""
        return torch.cat([conv(x) for conv in self.convs], dim=1)


def parallel_convolutions(channels: Sequence[int], strides: Sequence[int], groups: int,
                          norm_cfg: dict) -> nn.Sequential:
    """PCM: three grouped 3x3 convolutions with BN + SiLU between them.

    ``channels`` are the four widths (input, two hidden, output); the layout (indices 0, 1,
    3, 4, 6 hold weights) is the official ``PCM`` one.
    """
    layers = []
    for i, stride in enumerate(strides):
        layers.append(nn.Conv2d(channels[i], channels[i + 1], 3, stride, 1, groups=groups))
        if i < len(strides) - 1:
            layers += [build_norm_layer(norm_cfg, channels[i + 1])[1], nn.SiLU(inplace=True)]
    return nn.Sequential(*layers)


class ReductionBlock(nn.Module):
    """The attention block of a reduction cell (official ``RC.attn``).

    ``mlp(norm2(.))`` is added to ``mixer(norm1(tokens)) + conv``; there is no residual of
    the input tokens, whose width differs.

    Args:
        in_dim: Width of the PRM tokens.
        out_dim: Width of the cell's output tokens.
        num_heads: Attention heads.
        token_type: ``'window'`` (window attention with qkv bias) or ``'transformer'``
            (global attention with the values as residual, no qkv bias).
        window_size: Window side of ``'window'``.
        relative_pos: Relative position bias in ``'window'``.
        mlp_ratio: Hidden width of the MLP over ``out_dim`` (1 in the official cells).
    """

    def __init__(self, in_dim: int, out_dim: int, num_heads: int, token_type: str,
                 window_size: int, relative_pos: bool = False, mlp_ratio: float = 1.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(in_dim)
        if token_type == 'window':
            self.attn = WindowAttention(in_dim, out_dim, num_heads, window_size,
                                        relative_pos=relative_pos)
        elif token_type == 'transformer':
            self.attn = ValueResidualAttention(in_dim, out_dim, num_heads)
        else:
            raise ValueError(f'token type {token_type!r} is not one of {TOKEN_TYPES}')
        self.norm2 = nn.LayerNorm(out_dim)
        self.mlp = Mlp(out_dim, int(out_dim * mlp_ratio))

    def forward(self, x: Tensor, hw: Tuple[int, int], conv: Tensor) -> Tensor:
        """(B, h*w, in_dim) PRM tokens and (B, h*w, out_dim) PCM tokens -> (B, h*w, out_dim)."""
        x = self.attn(self.norm1(x), hw) + conv
        return x + self.mlp(self.norm2(x))


class ReductionCell(nn.Module):
    """ViTAEv2's reduction cell: PRM tokens through an attention block, plus a strided PCM.

    Args:
        in_channels: Channels of the input map.
        embed_dim: Width of each PRM branch and of the PCM's hidden layers.
        token_dim: Output token width.
        downsample_ratio: Stride of the cell (2 or 4).
        kernel_size: PRM kernel side.
        dilations: PRM dilations.
        num_heads: Attention heads.
        groups: Groups of the PCM convolutions.
        token_type: ``'window'`` or ``'transformer'``.
        window_size: Window side of ``'window'``.
        relative_pos: Relative position bias in ``'window'``.
        norm_cfg: Norm of the PCM (official: BN).
    """

    def __init__(self, in_channels: int, embed_dim: int, token_dim: int,
                 downsample_ratio: int, kernel_size: int, dilations: Sequence[int],
                 num_heads: int, groups: int, token_type: str, window_size: int,
                 relative_pos: bool = False, norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__()
        if downsample_ratio not in (2, 4):
            raise ValueError(f'a reduction cell downsamples by 2 or 4, not {downsample_ratio}')
        strides = (2, 2, 1) if downsample_ratio == 4 else (2, 1, 1)
        self.PCM = parallel_convolutions((in_channels, embed_dim, embed_dim, token_dim),
                                         strides, groups, norm_cfg)
        self.PRM = PyramidReduction(in_channels, embed_dim, kernel_size, downsample_ratio,
                                    dilations)
        self.attn = ReductionBlock(self.PRM.out_channels, token_dim, num_heads, token_type,
                                   window_size, relative_pos)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """(B, C, H, W) map -> (B, h*w, token_dim) tokens and their (h, w) grid."""
        tokens = self.PRM(x)
        hw = tokens.shape[2:]
        return self.attn(nchw_to_nlc(tokens), hw, nchw_to_nlc(self.PCM(x))), hw


class NormalCell(Block):
    """ViTAEv2's normal cell: a pre-norm transformer block with a PCM beside its attention.

    ``x + drop_path(attn(norm1(x))) + drop_path(PCM(x))``, then ``+ drop_path(mlp(norm2))``;
    the PCM is three grouped 3x3 convolutions (``dim -> mlp_ratio * dim -> dim -> dim``).

    Args:
        dim: Token width.
        num_heads: Attention heads.
        groups: Groups of the PCM convolutions.
        token_type: ``'window'`` (window attention) or ``'transformer'`` (global).
        window_size: Window side of ``'window'``.
        relative_pos: Relative position bias in ``'window'``.
        mlp_ratio: Hidden width of the MLP and the PCM over ``dim``.
        drop_path: Stochastic-depth rate of the three branches.
        norm_cfg: Norm of the PCM (official: BN).
    """

    def __init__(self, dim: int, num_heads: int, groups: int, token_type: str,
                 window_size: int, relative_pos: bool = False, mlp_ratio: float = 4.0,
                 drop_path: float = 0.0, norm_cfg: dict = dict(type='BN')) -> None:
        if token_type == 'window':
            attn = WindowAttention(dim, dim, num_heads, window_size, relative_pos=relative_pos)
        elif token_type == 'transformer':
            attn = None
        else:
            raise ValueError(f'token type {token_type!r} is not one of {TOKEN_TYPES}')
        super().__init__(dim, num_heads, mlp_ratio, qkv_bias=True, drop_path=drop_path,
                         attn=attn)
        hidden = int(dim * mlp_ratio)
        self.PCM = parallel_convolutions((dim, hidden, dim, dim), (1, 1, 1), groups, norm_cfg)

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tensor:
        """(B, h*w, dim) tokens of an (h, w) grid -> same shape."""
        conv = nchw_to_nlc(self.PCM(nlc_to_nchw(x, hw)))
        x = x + self.drop_path(self.attn(self.norm1(x), hw)) + self.drop_path(conv)
        return x + self.drop_path(self.mlp(self.norm2(x)))
