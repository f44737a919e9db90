"""RVSA attention against window attention written out window by window in the test.

The reference pads the grid evenly with zero queries/keys/values (the official convention),
then for every window gathers its keys/values at explicit integer positions of the padded
grid, adds the relative position terms built entry by entry, and applies softmax attention.
Known transforms of the sampling grid map onto known key positions: none (plain windows),
a 90 degree rotation (the window's keys turned by ``rot90``), an x offset of one window
(the right-hand neighbour's keys) and an x scale of 2 (every other column).
"""
import math
from typing import Callable, Tuple

import pytest
import torch

from mmsamrs.models.layers.rotated_window_attention import RotatedVariedSizeWindowAttention

DIM, HEADS = 24, 3
#: (window row i, window col j, window size) -> (rows, cols) of its keys in the padded grid
KeyPositions = Callable[[int, int, int], Tuple[torch.Tensor, torch.Tensor]]


def own_window(i: int, j: int, ws: int) -> Tuple[torch.Tensor, torch.Tensor]:
    a, b = torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing='ij')
    return i * ws + a, j * ws + b


def rotated_window(i: int, j: int, ws: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Key (a, b) of a window turned by +90 degrees comes from (b, ws - 1 - a)."""
    a, b = torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing='ij')
    return i * ws + b, j * ws + ws - 1 - a


def right_window(i: int, j: int, ws: int) -> Tuple[torch.Tensor, torch.Tensor]:
    rows, cols = own_window(i, j, ws)
    return rows, cols + ws


def x_stretched_window(i: int, j: int, ws: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Columns at twice the spacing about the window centre (odd ``ws``)."""
    rows, cols = own_window(i, j, ws)
    centre = j * ws + (ws - 1) // 2
    return rows, centre + 2 * (cols - centre)


def reference(attn: RotatedVariedSizeWindowAttention, x: torch.Tensor, hw: Tuple[int, int],
              key_positions: KeyPositions = own_window) -> torch.Tensor:
    b, _, c = x.shape
    h, w = hw
    ws, heads = attn.window_size, attn.num_heads
    d = c // heads
    padded_h, padded_w = math.ceil(h / ws) * ws, math.ceil(w / ws) * ws
    top, left = (padded_h - h) // 2, (padded_w - w) // 2
    qkv = torch.zeros(b, padded_h, padded_w, 3, heads, d)
    qkv[:, top:top + h, left:left + w] = attn.qkv(x).reshape(b, h, w, 3, heads, d)

    n = ws * ws
    bias = torch.zeros(heads, n, n)
    rel_h = torch.zeros(n, n, d)
    rel_w = torch.zeros(n, n, d)
    for query in range(n):
        qy, qx = divmod(query, ws)
        for key in range(n):
            ky, kx = divmod(key, ws)
            dy, dx = qy - ky + ws - 1, qx - kx + ws - 1
            bias[:, query, key] = attn.relative_position_bias_table[dy * (2 * ws - 1) + dx]
            rel_h[query, key] = attn.rel_pos_h[dy]
            rel_w[query, key] = attn.rel_pos_w[dx]

    out = torch.zeros(b, padded_h, padded_w, heads, d)
    for i in range(padded_h // ws):
        for j in range(padded_w // ws):
            window = qkv[:, i * ws:(i + 1) * ws, j * ws:(j + 1) * ws]
            q = window[..., 0, :, :].reshape(b, n, heads, d).transpose(1, 2)
            rows, cols = key_positions(i, j, ws)
            inside = (rows >= 0) & (rows < padded_h) & (cols >= 0) & (cols < padded_w)
            kv = qkv[:, rows.clamp(0, padded_h - 1), cols.clamp(0, padded_w - 1)]
            kv = kv * inside[None, :, :, None, None, None]
            k = kv[..., 1, :, :].reshape(b, n, heads, d).transpose(1, 2)
            v = kv[..., 2, :, :].reshape(b, n, heads, d).transpose(1, 2)
            logits = q @ k.transpose(-2, -1) / math.sqrt(d) + bias
            logits = logits + torch.einsum('bhqd,qkd->bhqk', q, rel_h + rel_w)
            result = logits.softmax(-1) @ v
            out[:, i * ws:(i + 1) * ws, j * ws:(j + 1) * ws] = (
                result.transpose(1, 2).reshape(b, ws, ws, heads, d))
    out = out[:, top:top + h, left:left + w].reshape(b, h * w, c)
    return attn.proj(out)


def make_attention(window_size: int, seed: int = 0) -> RotatedVariedSizeWindowAttention:
    """An RVSA module with random relative position terms (so they are exercised too)."""
    torch.manual_seed(seed)
    attn = RotatedVariedSizeWindowAttention(DIM, HEADS, window_size)
    with torch.no_grad():
        attn.rel_pos_h.normal_(std=0.1)
        attn.rel_pos_w.normal_(std=0.1)
        attn.relative_position_bias_table.normal_(std=0.1)
    return attn


def set_predictor_bias(predictor: torch.nn.Sequential, bias: torch.Tensor) -> None:
    with torch.no_grad():
        predictor[2].bias.copy_(bias)


@pytest.mark.parametrize('hw,window_size', [((8, 8), 4), ((5, 7), 4), ((4, 6), 7),
                                            ((6, 9), 3)])
def test_zero_predictors_give_plain_window_attention(hw, window_size):
    attn = make_attention(window_size)
    for predictor in (attn.sampling_offsets, attn.sampling_scales, attn.sampling_angles):
        assert not predictor[2].weight.any() and not predictor[2].bias.any()
    x = torch.randn(2, hw[0] * hw[1], DIM)
    out = attn(x, hw)
    assert out.shape == x.shape
    torch.testing.assert_close(out, reference(attn, x, hw), atol=1e-5, rtol=1e-4)


def test_quarter_turn_rotates_the_key_windows():
    attn = make_attention(4)
    set_predictor_bias(attn.sampling_angles, torch.full((HEADS,), math.pi / 2))
    x = torch.randn(2, 64, DIM)
    out = attn(x, (8, 8))
    torch.testing.assert_close(out, reference(attn, x, (8, 8), rotated_window),
                               atol=1e-5, rtol=1e-4)
    assert not torch.allclose(out, reference(attn, x, (8, 8)), atol=1e-3)


def test_small_angle_changes_the_output():
    attn = make_attention(4)
    x = torch.randn(1, 48, DIM)
    plain = attn(x, (6, 8))
    set_predictor_bias(attn.sampling_angles, torch.full((HEADS,), 0.3))
    assert (attn(x, (6, 8)) - plain).abs().max() > 1e-3


def test_offset_of_one_window_reads_the_right_neighbour():
    """x offsets are in units of 2 / (whole windows along the height) grid spans (official)."""
    attn = make_attention(4)
    hw, ws = (8, 8), 4
    one_window = ws * 2 / (hw[1] - 1) * (hw[0] // ws)
    set_predictor_bias(attn.sampling_offsets, torch.tensor([one_window, 0.0] * HEADS))
    x = torch.randn(2, 64, DIM)
    torch.testing.assert_close(attn(x, hw), reference(attn, x, hw, right_window),
                               atol=1e-5, rtol=1e-4)


def test_x_scale_stretches_columns_only():
    attn = make_attention(3)
    set_predictor_bias(attn.sampling_scales, torch.tensor([1.0, 0.0] * HEADS))
    x = torch.randn(2, 81, DIM)
    torch.testing.assert_close(attn(x, (9, 9)), reference(attn, x, (9, 9), x_stretched_window),
                               atol=1e-5, rtol=1e-4)


def test_heads_transform_their_windows_independently():
    """Only head 0 turns; a module whose heads all turn agrees with it on head 0 only."""
    attn = make_attention(4)
    x = torch.randn(1, 64, DIM)
    with torch.no_grad():
        attn.proj.weight.copy_(torch.eye(DIM))
        attn.proj.bias.zero_()
    plain = attn(x, (8, 8))
    set_predictor_bias(attn.sampling_angles, torch.full((HEADS,), math.pi / 2))
    all_turned = attn(x, (8, 8))
    set_predictor_bias(attn.sampling_angles, torch.tensor([math.pi / 2, 0.0, 0.0]))
    head0_turned = attn(x, (8, 8))
    d = DIM // HEADS
    torch.testing.assert_close(head0_turned[..., :d], all_turned[..., :d])
    torch.testing.assert_close(head0_turned[..., d:], plain[..., d:])


def test_predictors_receive_gradients():
    attn = make_attention(4)
    x = torch.randn(2, 5 * 7, DIM)
    attn(x, (5, 7)).square().sum().backward()
    for name, param in attn.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
