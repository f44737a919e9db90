"""Rotated varied-size window attention (RVSA; Wang et al., TGRS 2022).

The token grid is cut into ``window_size`` x ``window_size`` windows (padded evenly on both
sides to a multiple of the window size). Queries stay on that regular grid; the keys and
values of each window are sampled bilinearly (:func:`torch.nn.functional.grid_sample`) at a
window-sized grid of points that every head moves, scales and rotates on its own: three 1x1
convolutions over the average-pooled window features predict, per window and head, an
offset (x, y), a scale (x, y) and an angle. Attention then runs inside each window, with the
relative position terms of the official code: a Swin-style bias table per head and
MViTv2-style decomposed height/width embeddings read by the queries.

The geometry follows the official ``RotatedVariedSizeWindowAttention``
(ViTAE-Transformer/Remote-Sensing-RVSA, ``vit_win_rvsa_v3_wsz7.py``, also used by SAMRS):
sampling points live in ``align_corners=True`` coordinates of the padded grid; the sampling
grid of a window is ``centre + R(angle) (scale + 1) local + offset``, with the x offset divided
by the number of whole windows along the height and the y offset by that along the width (the
official normalisation; the same number for square grids). Padded positions hold zero
queries, keys and values and are not masked, as in the official code. The predictors start
at zero (the official code defines such a reset but never calls it), so an untrained module
samples each window's own keys and values: plain window attention.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmengine.model.weight_init import constant_init, trunc_normal_
from torch import Tensor, nn


def window_regressor(dim: int, out_channels: int, window_size: int) -> nn.Sequential:
    """Per-window predictor: average-pool each window, LeakyReLU, 1x1 convolution.

    Kept as a ``Sequential`` (``.2`` is the convolution) for the official parameter names;
    the convolution starts at zero.
    """
    conv = nn.Conv2d(dim, out_channels, kernel_size=1)
    constant_init(conv, 0)
    return nn.Sequential(nn.AvgPool2d(window_size, stride=window_size), nn.LeakyReLU(), conv)


class RotatedVariedSizeWindowAttention(nn.Module):
    """Window attention whose key/value windows are moved, scaled and rotated per head.

    Parameter names are the official ones: ``qkv``, ``proj``, ``sampling_offsets``,
    ``sampling_scales``, ``sampling_angles`` (``.2`` the convolution), ``rel_pos_h``,
    ``rel_pos_w``, ``relative_position_bias_table``. Call it as ``attn(x, hw)`` with tokens
    ``x`` (B, h*w, C) of an (h, w) grid, e.g. as the ``attn`` of
    :class:`~mmsamrs.models.layers.vit_blocks.Block`.

    Args:
        dim: Token width.
        num_heads: Attention heads; each predicts its own window transform.
        window_size: Side of the (query) windows and of the sampled key/value grids.
        qkv_bias: Give the query/key/value projection a bias.
    """

    def __init__(self, dim: int, num_heads: int, window_size: int = 7,
                 qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.window_size = window_size
        head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.sampling_offsets = window_regressor(dim, num_heads * 2, window_size)
        self.sampling_scales = window_regressor(dim, num_heads * 2, window_size)
        self.sampling_angles = window_regressor(dim, num_heads, window_size)

        span = 2 * window_size - 1
        self.rel_pos_h = nn.Parameter(torch.zeros(span, head_dim))
        self.rel_pos_w = nn.Parameter(torch.zeros(span, head_dim))
        self.relative_position_bias_table = nn.Parameter(torch.zeros(span * span, num_heads))
        trunc_normal_(self.relative_position_bias_table, std=0.02)
        coords = torch.arange(window_size)
        # distance[i, j] = i - j, shifted to index a table of 2 * window_size - 1 rows
        distance = coords[:, None] - coords[None, :] + window_size - 1
        self.register_buffer('relative_distance', distance, persistent=False)
        index = distance.view(window_size, 1, window_size, 1) * span + distance.view(
            1, window_size, 1, window_size)
        self.register_buffer('relative_position_index',
                             index.reshape(window_size ** 2, window_size ** 2),
                             persistent=False)

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tensor:
        """(B, h*w, C) tokens of an (h, w) grid -> (B, h*w, C)."""
        b, n, c = x.shape
        h, w = hw
        ws, heads = self.window_size, self.num_heads
        pad_h, pad_w = -h % ws, -w % ws
        top, left = pad_h // 2, pad_w // 2
        padding = (left, pad_w - left, top, pad_h - top)

        feats = F.pad(x.transpose(1, 2).reshape(b, c, h, w), padding)
        grid = self._sampling_grid(feats, (h, w))
        qkv = self.qkv(x).reshape(b, h, w, 3, heads, c // heads).permute(3, 0, 4, 5, 1, 2)
        q, k, v = F.pad(qkv.flatten(1, 2), padding)  # each (B*heads, d, H, W)
        kv = F.grid_sample(torch.cat([k, v], dim=1), grid, mode='bilinear',
                           padding_mode='zeros', align_corners=True)
        k, v = kv.chunk(2, dim=1)

        q, k, v = (self._to_windows(t, b) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=self._position_bias(q))
        out = self._from_windows(out, b, feats.shape[-2:])
        out = out[:, top:top + h, left:left + w].reshape(b, n, c)
        return self.proj(out)

    def _sampling_grid(self, feats: Tensor, hw: Tuple[int, int]) -> Tensor:
        """Key/value sampling points (x, y) of every window and head: (B*heads, H, W, 2).

        ``feats`` is the padded (B, C, H, W) input the predictors look at; ``hw`` the unpadded
        grid, which sets the official offset normalisation.
        """
        b, _, height, width = feats.shape
        ws, heads = self.window_size, self.num_heads
        rows, cols = height // ws, width // ws
        offsets = self.sampling_offsets(feats).reshape(b * heads, 2, rows, 1, cols, 1)
        scales = self.sampling_scales(feats).reshape(b * heads, 2, rows, 1, cols, 1) + 1
        angles = self.sampling_angles(feats).reshape(b * heads, rows, 1, cols, 1)

        # all terms broadcast to (B*heads, rows, ws, cols, ws); align_corners=True: pixel p of
        # a side of length L sits at -1 + 2 p / (L - 1)
        step_x, step_y = 2 / max(width - 1, 1), 2 / max(height - 1, 1)
        local = torch.arange(ws, device=feats.device, dtype=feats.dtype) - (ws - 1) / 2
        local_x = local.view(1, 1, ws) * step_x * scales[:, 0]
        local_y = local.view(ws, 1, 1) * step_y * scales[:, 1]
        cos, sin = angles.cos(), angles.sin()
        first = (ws - 1) / 2  # centre pixel of the first window
        centre_x = torch.arange(cols, device=feats.device, dtype=feats.dtype) * ws + first
        centre_y = torch.arange(rows, device=feats.device, dtype=feats.dtype) * ws + first
        centre_x = (centre_x * step_x - 1).view(1, cols, 1)
        centre_y = (centre_y * step_y - 1).view(rows, 1, 1, 1)
        # offsets as the official code scales them (x by whole windows along the height, y
        # along the width); at least 1, where the official one divides by zero
        h, w = hw
        grid_x = (centre_x + local_x * cos - local_y * sin
                  + offsets[:, 0] / max(h // ws, 1))
        grid_y = (centre_y + local_x * sin + local_y * cos
                  + offsets[:, 1] / max(w // ws, 1))
        return torch.stack([grid_x, grid_y], dim=-1).reshape(b * heads, height, width, 2)

    def _to_windows(self, t: Tensor, batch: int) -> Tensor:
        """(B*heads, d, H, W) -> (B*windows, heads, ws*ws, d)."""
        ws = self.window_size
        _, d, height, width = t.shape
        t = t.reshape(batch, self.num_heads, d, height // ws, ws, width // ws, ws)
        return t.permute(0, 3, 5, 1, 4, 6, 2).reshape(-1, self.num_heads, ws * ws, d)

    def _from_windows(self, t: Tensor, batch: int, size: Tuple[int, int]) -> Tensor:
        """(B*windows, heads, ws*ws, d) -> (B, H, W, heads*d)."""
        ws = self.window_size
        height, width = size
        t = t.reshape(batch, height // ws, width // ws, self.num_heads, ws, ws, -1)
        return t.permute(0, 1, 4, 2, 5, 3, 6).reshape(batch, height, width, -1)

    def _position_bias(self, q: Tensor) -> Tensor:
        """Additive attention logits (B*windows, heads, ws*ws, ws*ws) from relative positions.

        The bias table term (per head) plus the decomposed terms ``q . rel_pos_h[dy]`` and
        ``q . rel_pos_w[dx]`` (unscaled queries, as in the official code).
        """
        ws = self.window_size
        n = ws * ws
        table = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        table = table.view(n, n, -1).permute(2, 0, 1)
        q = q.reshape(q.shape[0], q.shape[1], ws, ws, -1)
        rel_h = torch.einsum('bnyxc,ykc->bnyxk', q, self.rel_pos_h[self.relative_distance])
        rel_w = torch.einsum('bnyxc,xkc->bnyxk', q, self.rel_pos_w[self.relative_distance])
        spatial = rel_h[..., :, None] + rel_w[..., None, :]
        return spatial.reshape(q.shape[0], q.shape[1], n, n) + table
