"""Mask crops: a binary mask stored as its bounding window placed in the image frame.

SAM's masks are kept as crops (``mask``, ``x0``, ``y0``) so that every later step (RLE,
area, box, painting) costs time in proportion to the object's size, not the image's.
"""
from __future__ import annotations

from typing import List, NamedTuple, Sequence, Tuple

import numpy as np


class Crop(NamedTuple):
    """A boolean ``mask`` of shape ``(h, w)`` whose top-left pixel is ``(x0, y0)``.

    Built by :func:`clip_crop`, which guarantees the window lies inside the image.
    """

    mask: np.ndarray
    x0: int
    y0: int

    @property
    def area(self) -> int:
        """Number of foreground pixels."""
        return int(np.count_nonzero(self.mask))

    def bbox(self) -> List[int]:
        """Tight box of the foreground as COCO ``[x, y, w, h]`` (all zeros when empty)."""
        cols = np.flatnonzero(self.mask.any(axis=0))
        if cols.size == 0:
            return [0, 0, 0, 0]
        rows = np.flatnonzero(self.mask.any(axis=1))
        return [self.x0 + int(cols[0]), self.y0 + int(rows[0]),
                int(cols[-1] - cols[0]) + 1, int(rows[-1] - rows[0]) + 1]


def clip_crop(mask: np.ndarray, offset: Sequence[int], shape: Tuple[int, int]) -> Crop:
    """Return the part of a crop at ``offset = (x0, y0)`` inside an image of ``shape = (H, W)``.

    The result is a view (no copy) converted to ``bool``; an empty crop (e.g. ``0x0``) or
    one entirely outside the image gives a ``0x0`` mask.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'a mask crop must be 2-D, got shape {mask.shape}')
    height, width = shape
    x0, y0 = int(offset[0]), int(offset[1])
    h, w = mask.shape
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + w, width), min(y0 + h, height)
    if xb <= xa or yb <= ya:
        return Crop(np.zeros((0, 0), dtype=bool), 0, 0)
    return Crop(mask[ya - y0:yb - y0, xa - x0:xb - x0].astype(bool, copy=False), xa, ya)
