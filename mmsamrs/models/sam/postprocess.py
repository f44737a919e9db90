"""Cropped post-processing of SAM's low-resolution mask logits.

SAM's own :meth:`segment_anything.modeling.Sam.postprocess_masks` upsamples every
``256 x 256`` low-resolution logit map to ``1024 x 1024`` (bilinear), crops the padding
to the resized image ``(newh, neww)``, resizes that to the original ``(H, W)`` (bilinear)
and thresholds: ``N * (1024^2 + H * W)`` work for ``N`` prompts whatever the objects'
size. :func:`postprocess_masks_cropped` gives the same binary masks, as tight crops, with
work that grows with the objects' size:

* both bilinear steps are separable, so an output pixel depends on a rectangle of
  low-resolution logits (its *support*: the cells its interpolation weights touch);
* the weights are non-negative and sum to one, so a pixel whose support holds no logit
  above the threshold is not above it either (for the default threshold 0 this holds
  in floating point too: products of non-positive values and non-negative weights, and
  their sums, are never positive);
* so only the output pixels whose support meets the bounding box of the positive
  low-resolution logits (the object's *window*) are computed; the rest is background.

Inside a window the upsampling (an integer factor) runs ``F.interpolate`` on the
low-resolution window, which gives the very values of the full map
(:func:`upsample_window`); the resize to the original frame is evaluated by
:func:`resize_window` with PyTorch's own source indices and weights and its CPU
kernel's order of operations (x86 builds fuse multiply-adds, emulated by :func:`fma`).
The values are bit-identical to SAM's path on such a CPU (the tests check it). Other
kernels (CUDA, builds without FMA) round the last bit of the resize differently, so there
a pixel whose official value lies within float32 rounding of the threshold may differ.
Objects whose window is so large that the window path would cost more than the full
resolution one take SAM's own computation (restricted to the window afterwards).

SAM 2 resizes its logits straight to the original size (one bilinear step, no padding to
crop); :func:`resize_masks_cropped` computes that step per window the same way.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

#: Cost of one resized window value relative to one value of ``F.interpolate`` (measured
#: on CPU); decides per object between the window path and the full-resolution path.
WINDOW_COST_RATIO = 12.0
#: Minimum side (low-resolution cells) of an upsampled window: PyTorch's CPU kernel rounds
#: differently for outputs with height + width <= 128, i.e. windows of 16 + 16 cells.
MIN_UPSAMPLE_CELLS = 17


class Resize1d:
    """Source indices and weights of resizing one axis from ``in_size`` to ``out_size``.

    Output ``i`` is ``w0[i] * x[idx0[i]] + w1[i] * x[idx1[i]]``, with the formulas of
    PyTorch's bilinear kernels (``align_corners=False``): ``src = max(scale * (i + 0.5)
    - 0.5, 0)`` rounded once to float32 (the fused multiply-add of compiled kernels;
    exact in float64 here), ``scale = float32(in_size) / out_size``; equal sizes copy.
    Indices and weights live on ``device``; the indices also on the host (``host_idx*``)
    so that windows are sliced without synchronising with the device.
    """

    def __init__(self, in_size: int, out_size: int, device: torch.device) -> None:
        dst = np.arange(out_size)
        if in_size == out_size:
            idx0 = dst
            w1 = np.zeros(out_size, dtype=np.float32)
        else:
            scale = np.float32(in_size) / np.float32(out_size)
            src = (np.float64(scale) * (dst + 0.5) - 0.5).astype(np.float32)
            src = np.maximum(src, np.float32(0))
            idx0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
            w1 = np.clip(src - idx0.astype(np.float32), 0, 1).astype(np.float32)
        idx1 = idx0 + (idx0 < in_size - 1)
        w0 = np.float32(1) - w1
        self.host_idx0, self.host_idx1 = idx0, idx1
        self.idx0, self.idx1, self.w0, self.w1 = (
            torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in (idx0, idx1, w0, w1))

    def source_span(self, start: int, stop: int) -> Tuple[int, int]:
        """Source range ``[lo, hi)`` read by the outputs ``[start, stop)``."""
        return int(self.host_idx0[start]), int(self.host_idx1[stop - 1]) + 1


def fma(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """``a * b + c`` rounded once to float32, like a fused multiply-add.

    Emulated in float64, where the product of two float32 values is exact; the sum is
    rounded twice (to float64, then float32), which differs from a true fused
    multiply-add only when the first rounding lands exactly on a float32 tie.
    """
    return torch.addcmul(c.double(), a.double(), b.double()).float()


def resize_window(src: Tensor, origin: Tuple[int, int], rows: Resize1d,
                  row_range: Tuple[int, int], cols: Resize1d,
                  col_range: Tuple[int, int]) -> Tensor:
    """Window ``row_range x col_range`` of the bilinear resize ``rows x cols`` of an image.

    ``src`` is the part of the source image starting at ``origin`` (row, col); it must
    cover the source span of the window. Values are computed in the order of PyTorch's
    CPU kernel: along a row ``t = fma(x0, w0, x1 * w1)``, then across rows
    ``fma(t0, h0, t1 * h1)``. Returns ``(row_stop - row_start, col_stop - col_start)``.
    """
    (ys, ye), (xs, xe) = row_range, col_range
    r_lo, r_hi = rows.source_span(ys, ye)
    band = src[r_lo - origin[0]:r_hi - origin[0]]
    c0, c1 = cols.idx0[xs:xe] - origin[1], cols.idx1[xs:xe] - origin[1]
    along = fma(band.index_select(1, c0), cols.w0[xs:xe],
                band.index_select(1, c1) * cols.w1[xs:xe])
    r0, r1 = rows.idx0[ys:ye] - r_lo, rows.idx1[ys:ye] - r_lo
    return fma(along.index_select(0, r0), rows.w0[ys:ye, None],
               along.index_select(0, r1) * rows.w1[ys:ye, None])


def upsample_window(logits: Tensor, cells: Sequence[Tuple[int, int]],
                    window: Sequence[Tuple[int, int]], factor: int) -> Tensor:
    """Window of ``F.interpolate(logits, scale_factor=factor)`` (bilinear, power-of-two
    ``factor``).

    ``logits`` is one ``(h, w)`` map; ``window`` the output ``[lo, hi)`` per axis and
    ``cells`` the low-resolution ``[lo, hi)`` per axis that it reads. With an exact
    scale the source offsets and weights repeat every ``factor`` outputs, so upsampling
    just those cells gives the values of the full map bit for bit (the window's edge
    clamping only touches outputs that read cells outside it). Each axis keeps at least
    :data:`MIN_UPSAMPLE_CELLS` cells so that the same kernel runs as for the full map.
    """
    spans = []
    for (lo, hi), size in zip(cells, logits.shape):
        hi = min(max(hi, lo + MIN_UPSAMPLE_CELLS), size)
        lo = max(min(lo, hi - MIN_UPSAMPLE_CELLS), 0)
        spans.append((lo, hi))
    (ra, rb), (ca, cb) = spans
    up = F.interpolate(logits[None, None, ra:rb, ca:cb], ((rb - ra) * factor, (cb - ca) * factor),
                       mode='bilinear', align_corners=False)[0, 0]
    (ys, ye), (xs, xe) = window
    return up[ys - ra * factor:ye - ra * factor, xs - ca * factor:xe - ca * factor]


class _Axis:
    """One image axis of SAM's post-processing: ``lr_size`` logits upsampled to
    ``img_size``, cropped to ``in_size`` (the resized image), resized to ``out_size``;
    without ``img_size`` (SAM 2) the logits are resized to ``out_size`` directly."""

    def __init__(self, lr_size: int, img_size: Optional[int], in_size: int, out_size: int,
                 device: torch.device) -> None:
        self.up = None if img_size is None else Resize1d(lr_size, img_size, device)
        self.down = Resize1d(lr_size if img_size is None else in_size, out_size, device)
        # lowest / highest low-resolution index each output index depends on
        if self.up is None:
            self.support_lo, self.support_hi = self.down.idx0, self.down.idx1
        else:
            self.support_lo = self.up.idx0[self.down.idx0].contiguous()
            self.support_hi = self.up.idx1[self.down.idx1].contiguous()

    def windows(self, positive: Tensor) -> Tensor:
        """Output windows ``(N, 2)`` = ``[lo, hi)`` whose support meets the positive cells.

        ``positive`` ``(N, lr_size)`` marks the low-resolution indices holding a logit
        above the threshold; none gives an empty window (``hi == lo``).
        """
        index = torch.arange(positive.shape[1], device=positive.device)
        first = torch.where(positive, index, positive.shape[1]).amin(1)
        last = torch.where(positive, index, -1).amax(1)
        lo = torch.searchsorted(self.support_hi, first)
        hi = torch.searchsorted(self.support_lo, last, right=True)
        return torch.stack([lo, torch.maximum(hi, lo)], 1)

    def spans(self, lo: int, hi: int) -> Tuple[Tuple[int, int], Tuple[int, int]]:
        """Upsampled ``[lo, hi)`` and low-resolution ``[lo, hi)`` read by outputs
        ``[lo, hi)``."""
        mid = self.down.source_span(lo, hi)
        return mid, self.up.source_span(*mid)


def _tight_crop(mask: np.ndarray, x0: int, y0: int) -> Tuple[np.ndarray, Tuple[int, int]]:
    """The tight bounding window of ``mask`` (placed at ``(x0, y0)``) and its offset."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return np.zeros((0, 0), dtype=bool), (0, 0)
    crop = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return np.ascontiguousarray(crop), (x0 + int(cols[0]), y0 + int(rows[0]))


def postprocess_masks_cropped(
        logits: Tensor,
        input_size: Sequence[int],
        original_size: Sequence[int],
        img_size: int = 1024,
        threshold: float = 0.0) -> Tuple[List[np.ndarray], np.ndarray]:
    """Binary masks of SAM's low-resolution ``logits`` as tight crops in the original frame.

    The same masks as ``Sam.postprocess_masks(logits, input_size, original_size) >
    threshold`` (see the module docstring), at a cost that grows with the objects' size.

    Args:
        logits: ``(N, 1, h, h)`` or ``(N, h, h)`` low-resolution mask logits (cast to
            float32 first); ``img_size / h`` must be a power of two (4 for SAM).
        input_size: ``(newh, neww)``, the image size after SAM's resize.
        original_size: ``(H, W)`` of the original image.
        img_size: side of SAM's square input (1024).
        threshold: mask threshold on the logits (SAM's ``mask_threshold``, 0).

    Returns:
        ``crops``: ``N`` boolean arrays, each the tight bounding window of its mask
        (``0 x 0`` when the mask is empty), and ``offsets`` int64 ``(N, 2)``: the
        ``(x0, y0)`` of each crop in the original image (``(0, 0)`` for empty masks).
    """
    if logits.dim() == 4:
        logits = logits.squeeze(1)
    logits = logits.float()
    num, lr_h, lr_w = logits.shape
    factor = img_size // lr_h
    if lr_h != lr_w or factor * lr_h != img_size or factor & (factor - 1):
        raise ValueError(f'low-resolution masks {lr_h}x{lr_w} must be square and '
                         f'{img_size} / {lr_h} a power of two')
    newh, neww = (int(v) for v in input_size)
    height, width = (int(v) for v in original_size)
    rows = _Axis(lr_h, img_size, newh, height, logits.device)
    cols = _Axis(lr_w, img_size, neww, width, logits.device)
    positive = logits > threshold
    windows = torch.cat([rows.windows(positive.any(2)), cols.windows(positive.any(1))], 1)
    windows = windows.cpu().numpy().tolist()
    full_cost = img_size * img_size + height * width
    masks = []
    for i, (ys, ye, xs, xe) in enumerate(windows):
        if ye <= ys or xe <= xs:
            masks.append(None)
            continue
        (mid_rows, cell_rows), (mid_cols, cell_cols) = rows.spans(ys, ye), cols.spans(xs, xe)
        cells = [max(hi - lo, MIN_UPSAMPLE_CELLS) * factor for lo, hi in (cell_rows, cell_cols)]
        window_cost = cells[0] * cells[1] + WINDOW_COST_RATIO * (ye - ys) * (xe - xs)
        if window_cost < full_cost:
            mid = upsample_window(logits[i], (cell_rows, cell_cols), (mid_rows, mid_cols),
                                  factor)
            values = resize_window(mid, (mid_rows[0], mid_cols[0]), rows.down, (ys, ye),
                                   cols.down, (xs, xe))
        else:  # SAM's own full-resolution computation
            values = F.interpolate(
                logits[i][None, None], (img_size, img_size), mode='bilinear',
                align_corners=False)[..., :newh, :neww]
            values = F.interpolate(values, (height, width), mode='bilinear',
                                   align_corners=False)[0, 0, ys:ye, xs:xe]
        masks.append(values > threshold)
    return _crops(masks, windows)


def resize_masks_cropped(logits: Tensor, original_size: Sequence[int],
                         threshold: float = 0.0) -> Tuple[List[np.ndarray], np.ndarray]:
    """Binary masks of SAM 2's low-resolution ``logits`` as tight crops in the original frame.

    SAM 2 (``SAM2Transforms.postprocess_masks``) resizes the ``256 x 256`` logits of its
    square frame straight to the original ``(H, W)`` (bilinear) and thresholds; the same
    masks, computed only in each object's window as :func:`postprocess_masks_cropped`
    does. Arguments and returns as there, without the resized size.
    """
    if logits.dim() == 4:
        logits = logits.squeeze(1)
    logits = logits.float()
    height, width = (int(v) for v in original_size)
    rows = _Axis(logits.shape[1], None, 0, height, logits.device)
    cols = _Axis(logits.shape[2], None, 0, width, logits.device)
    positive = logits > threshold
    windows = torch.cat([rows.windows(positive.any(2)), cols.windows(positive.any(1))], 1)
    windows = windows.cpu().numpy().tolist()
    masks = []
    for i, (ys, ye, xs, xe) in enumerate(windows):
        if ye <= ys or xe <= xs:
            masks.append(None)
            continue
        values = resize_window(logits[i], (0, 0), rows.down, (ys, ye), cols.down, (xs, xe))
        masks.append(values > threshold)
    return _crops(masks, windows)


def _crops(masks: List[Optional[Tensor]],
           windows: List[List[int]]) -> Tuple[List[np.ndarray], np.ndarray]:
    """Tight crops and offsets of the window masks (``None``: empty mask)."""
    num = len(masks)
    crops = [np.zeros((0, 0), dtype=bool) for _ in range(num)]
    offsets = np.zeros((num, 2), dtype=np.int64)
    computed = [i for i, mask in enumerate(masks) if mask is not None]
    if computed:  # one transfer for all masks
        flat = torch.cat([masks[i].reshape(-1) for i in computed]).cpu().numpy()
        start = 0
        for i in computed:
            ys, ye, xs, xe = windows[i]
            stop = start + (ye - ys) * (xe - xs)
            crops[i], offsets[i] = _tight_crop(flat[start:stop].reshape(ye - ys, xe - xs),
                                               xs, ys)
            start = stop
    return crops, offsets
