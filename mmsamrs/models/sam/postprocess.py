"""Cropped post-processing of SAM's low-resolution mask logits.

SAM's own :meth:`segment_anything.modeling.Sam.postprocess_masks` upsamples every
``256 x 256`` low-resolution logit map to ``1024 x 1024`` (bilinear), crops the padding
to the resized image ``(newh, neww)``, resizes that to the original ``(H, W)`` (bilinear)
and thresholds: ``N * (1024^2 + H * W)`` work for ``N`` prompts, whatever the objects'
size. :func:`postprocess_masks_cropped` gives the same binary masks but evaluates the two
interpolations only inside a window around each object, as a tight crop:

* both bilinear steps are separable, so an output pixel depends on a rectangle of
  low-resolution logits: its *support* (at most 3 x 3 cells here);
* bilinear weights are non-negative and sum to one, so a pixel whose support holds no
  logit above the threshold is not above it either (exactly so for the default
  threshold 0: a sum of products of non-positive values and non-negative weights is
  never positive in floating point);
* so only output pixels whose support meets the bounding box of the positive
  low-resolution logits are computed; everything outside that window is background.

Inside the window both steps use PyTorch's own source indices and weights for
``F.interpolate(mode='bilinear', align_corners=False)`` (computed in float32 with the
same formulas) and combine them in the same order as PyTorch's CPU kernel. On this CPU
the interpolated values are bit-identical to the full-resolution path (see the tests);
on other kernels (e.g. CUDA, which may fuse multiply-adds) they can differ in the last
bit, so only a value within float32 rounding of the threshold could flip.
The work is proportional to the objects' areas, not to ``N * H * W``.
"""
from typing import List, NamedTuple, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor


class LinearTable(NamedTuple):
    """Source rows of a 1-D bilinear resize: output ``i`` = ``w0[i] * x[idx0[i]] +
    w1[i] * x[idx1[i]]`` (``align_corners=False``, PyTorch's formulas)."""

    idx0: Tensor
    idx1: Tensor
    w0: Tensor
    w1: Tensor

    def take(self, index: Tensor, offset: Tensor) -> 'LinearTable':
        """Rows ``index`` (any shape) of the table, source indices shifted by ``-offset``."""
        return LinearTable(self.idx0[index] - offset, self.idx1[index] - offset,
                           self.w0[index], self.w1[index])


def linear_table(in_size: int, out_size: int, device: torch.device) -> LinearTable:
    """Return the :class:`LinearTable` of resizing ``in_size`` samples to ``out_size``.

    Mirrors ``area_pixel_compute_source_index`` and ``compute_source_index_and_lambda``
    of PyTorch's upsampling kernels: ``src = max(scale * (i + 0.5) - 0.5, 0)`` rounded
    once to float32, with ``scale = float32(in_size) / out_size``; equal sizes copy.
    """
    dst = np.arange(out_size)
    if in_size == out_size:
        idx0 = dst
        w1 = np.zeros(out_size, dtype=np.float32)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
        # one rounding, as the fused multiply-add PyTorch's compiled kernels use (exact
        # in float64: a float32 times a small half-integer, minus 0.5)
        src = (np.float64(scale) * (dst + 0.5) - 0.5).astype(np.float32)
        src = np.maximum(src, np.float32(0))
        idx0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
        w1 = np.clip(src - idx0.astype(np.float32), 0, 1).astype(np.float32)
    idx1 = idx0 + (idx0 < in_size - 1)
    w0 = np.float32(1) - w1
    return LinearTable(*(torch.from_numpy(np.ascontiguousarray(a)).to(device)
                         for a in (idx0, idx1, w0, w1)))


def fma(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """``a * b + c`` rounded once to float32, like a fused multiply-add.

    Emulated in float64, where the product of two float32 values is exact; the sum is
    rounded twice (to float64, then float32), which differs from a true fused
    multiply-add only when the first rounding lands exactly on a float32 tie.
    """
    return (a.double() * b.double() + c.double()).float()


def resize_window(src: Tensor, rows: LinearTable, cols: LinearTable) -> Tensor:
    """Bilinear values of ``src`` ``(G, h, w)`` at ``rows`` ``(G, ho)`` x ``cols`` ``(G, wo)``.

    Computed as PyTorch's CPU kernel does (x86 builds, which fuse multiply-adds): along a
    row ``t = fma(x0, w0, x1 * w1)``, then across rows ``fma(t0, h0, t1 * h1)``. Row
    values are computed once for the rows the window reads. ``rows`` must be
    non-decreasing along ``ho``. Returns ``(G, ho, wo)``.
    """
    num, height, width = src.shape
    first = rows.idx0[:, :1]
    span = int((rows.idx1[:, -1:] - first).max()) + 1
    read = torch.minimum(first + torch.arange(span, device=src.device), first.new_tensor(height - 1))
    band = src.gather(1, read[:, :, None].expand(num, span, width))

    def take_cols(index: Tensor) -> Tensor:
        return band.gather(2, index[:, None, :].expand(num, span, index.shape[1]))

    along = fma(take_cols(cols.idx0), cols.w0[:, None, :],
                take_cols(cols.idx1) * cols.w1[:, None, :])

    def take_rows(index: Tensor) -> Tensor:
        return along.gather(1, (index - first)[:, :, None].expand(num, index.shape[1],
                                                                  along.shape[2]))

    return fma(take_rows(rows.idx0), rows.w0[:, :, None],
               take_rows(rows.idx1) * rows.w1[:, :, None])


class _Axis:
    """One image axis of SAM's post-processing: ``lr_size`` logits upsampled to
    ``img_size``, cropped to ``in_size`` (the resized image) and resized to ``out_size``."""

    def __init__(self, lr_size: int, img_size: int, in_size: int, out_size: int,
                 device: torch.device) -> None:
        self.up = linear_table(lr_size, img_size, device)
        self.down = linear_table(in_size, out_size, device)
        # lowest / highest low-resolution index each output index depends on
        self.support_lo = self.up.idx0[self.down.idx0].contiguous()
        self.support_hi = self.up.idx1[self.down.idx1].contiguous()

    def window(self, positive: Tensor) -> Tuple[Tensor, Tensor]:
        """Output windows ``[lo, hi)`` ``(N,)`` whose support meets the positive cells.

        ``positive`` ``(N, lr_size)`` marks the low-resolution indices holding a logit
        above the threshold; a row without any gives an empty window (``hi <= lo``).
        """
        index = torch.arange(positive.shape[1], device=positive.device)
        first = torch.where(positive, index, positive.shape[1]).amin(1)
        last = torch.where(positive, index, -1).amax(1)
        lo = torch.searchsorted(self.support_hi, first)
        hi = torch.searchsorted(self.support_lo, last, right=True)
        return lo, torch.maximum(hi, lo)

    def mid_window(self, lo: Tensor, hi: Tensor) -> Tuple[Tensor, Tensor]:
        """Windows ``[lo, hi)`` of the upsampled axis read by non-empty output windows."""
        return self.down.idx0[lo], self.down.idx1[hi - 1] + 1

    def tables(self, lo: Tensor, hi: Tensor, mid_lo: Tensor, mid_hi: Tensor, size: int,
               mid_size: int) -> Tuple[LinearTable, LinearTable]:
        """Tables of both steps for windows padded to ``size`` / ``mid_size`` entries.

        Padding entries repeat the window's last index. The upsampling table reads the
        low-resolution logits; the resizing table reads the upsampled window.
        """
        device = lo.device
        out_idx = torch.minimum(lo[:, None] + torch.arange(size, device=device),
                                hi[:, None] - 1)
        mid_idx = torch.minimum(mid_lo[:, None] + torch.arange(mid_size, device=device),
                                mid_hi[:, None] - 1)
        return self.up.take(mid_idx, 0), self.down.take(out_idx, mid_lo[:, None])


def _groups(sizes: np.ndarray, max_elements: int) -> List[np.ndarray]:
    """Split objects into groups computed together, padded to the group's largest sizes.

    ``sizes`` ``(N, 4)`` holds each object's window height, width and upsampled window
    height, width. Objects are taken by increasing cost; a group grows while padding
    at most doubles its work (or the work stays small) and stays within ``max_elements``.
    """
    costs = sizes[:, 0] * sizes[:, 1] + sizes[:, 2] * sizes[:, 3]
    groups, current, maxima, total = [], [], np.zeros(4, dtype=np.int64), 0
    for i in np.argsort(costs, kind='stable'):
        new_max = np.maximum(maxima, sizes[i])
        padded = (len(current) + 1) * int(new_max[0] * new_max[1] + new_max[2] * new_max[3])
        if current and (padded > max_elements or padded > max(2 * (total + costs[i]), 1 << 16)):
            groups.append(np.array(current))
            current, new_max, total = [], sizes[i], 0
        current.append(i)
        maxima, total = new_max, total + int(costs[i])
    if current:
        groups.append(np.array(current))
    return groups


def _tight(mask: Tensor) -> Tensor:
    """Tight bounds ``(G, 4)`` = (top, bottom, left, right), exclusive ends, of each mask
    ``(G, h, w)``; empty masks give ``bottom <= top``."""
    bounds = []
    for occupied in (mask.any(2), mask.any(1)):
        index = torch.arange(occupied.shape[1], device=mask.device)
        bounds += [torch.where(occupied, index, occupied.shape[1]).amin(1),
                   torch.where(occupied, index, -1).amax(1) + 1]
    return torch.stack(bounds, 1)


def postprocess_masks_cropped(
        logits: Tensor,
        input_size: Sequence[int],
        original_size: Sequence[int],
        img_size: int = 1024,
        threshold: float = 0.0,
        max_elements: int = 1 << 22) -> Tuple[List[np.ndarray], np.ndarray]:
    """Binary masks of SAM's low-resolution ``logits`` as tight crops in the original frame.

    Equivalent to ``Sam.postprocess_masks(logits, input_size, original_size) > threshold``
    (see the module docstring) at a cost proportional to the objects' areas.

    Args:
        logits: ``(N, 1, h, w)`` or ``(N, h, w)`` low-resolution mask logits.
        input_size: ``(newh, neww)``, the image size after SAM's resize.
        original_size: ``(H, W)`` of the original image.
        img_size: side of SAM's square input (1024).
        threshold: mask threshold on the logits (SAM's ``mask_threshold``, 0).
        max_elements: bound on the elements of one padded group of windows (memory).

    Returns:
        ``crops``: ``N`` boolean arrays, each the tight bounding window of its mask
        (``0 x 0`` when the mask is empty), and ``offsets`` int64 ``(N, 2)``: the
        ``(x0, y0)`` of each crop in the original image (``(0, 0)`` for empty masks).
    """
    if logits.dim() == 4:
        logits = logits.squeeze(1)
    logits = logits.float()
    num, device = logits.shape[0], logits.device
    rows = _Axis(logits.shape[1], img_size, input_size[0], original_size[0], device)
    cols = _Axis(logits.shape[2], img_size, input_size[1], original_size[1], device)
    positive = logits > threshold
    y_lo, y_hi = rows.window(positive.any(2))
    x_lo, x_hi = cols.window(positive.any(1))
    crops = [np.zeros((0, 0), dtype=bool) for _ in range(num)]
    offsets = np.zeros((num, 2), dtype=np.int64)
    keep = ((y_hi > y_lo) & (x_hi > x_lo)).nonzero()[:, 0]
    if len(keep) == 0:
        return crops, offsets
    y_lo, y_hi, x_lo, x_hi = y_lo[keep], y_hi[keep], x_lo[keep], x_hi[keep]
    my_lo, my_hi = rows.mid_window(y_lo, y_hi)
    mx_lo, mx_hi = cols.mid_window(x_lo, x_hi)
    sizes = torch.stack([y_hi - y_lo, x_hi - x_lo, my_hi - my_lo, mx_hi - mx_lo], 1)
    sizes_np = sizes.cpu().numpy()
    for group in _groups(sizes_np, max_elements):
        h, w, mh, mw = (int(v) for v in sizes_np[group].max(0))
        sel = torch.from_numpy(group).to(device)
        up_rows, down_rows = rows.tables(y_lo[sel], y_hi[sel], my_lo[sel], my_hi[sel], h, mh)
        up_cols, down_cols = cols.tables(x_lo[sel], x_hi[sel], mx_lo[sel], mx_hi[sel], w, mw)
        upsampled = resize_window(logits[keep[sel]], up_rows, up_cols)
        masks = resize_window(upsampled, down_rows, down_cols) > threshold
        inside_h = torch.arange(h, device=device) < sizes[sel, 0:1]
        inside_w = torch.arange(w, device=device) < sizes[sel, 1:2]
        masks &= inside_h[:, :, None] & inside_w[:, None, :]
        bounds = _tight(masks).cpu().numpy()
        masks_np = masks.cpu().numpy()
        starts = torch.stack([x_lo[sel], y_lo[sel]], 1).cpu().numpy()
        for j, k in enumerate(keep[sel].cpu().numpy()):
            top, bottom, left, right = bounds[j]
            if bottom > top:
                crops[k] = masks_np[j, top:bottom, left:right].copy()
                offsets[k] = starts[j] + (left, top)
    return crops, offsets
