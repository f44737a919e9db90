"""Box conversions between the SAMRS box kinds, on ``numpy`` arrays.

Conventions (pixel coordinates, x right, y down):

* H-Box ``(x1, y1, x2, y2)``: horizontal box, ``x2 >= x1`` and ``y2 >= y1``.
* quad ``(x1, y1, ..., x4, y4)``: the four corners of a (rotated) box, DOTA order.
* R-Box ``(cx, cy, w, h, angle)``: rotated box, ``angle`` in radians, mmrotate's
  ``rbox2qbox`` convention (the ``w`` side points along ``(cos a, sin a)``).
* RH-Box: the horizontal box circumscribing an R-Box (SAMRS paper, section 2.3).

The rotated conversions delegate to mmrotate's ``rbox2qbox``/``qbox2rbox``.
"""
import math
from typing import Tuple

import numpy as np
import torch
from mmrotate.structures.bbox.box_converters import qbox2rbox, rbox2qbox


def quad_to_hbox(quads: np.ndarray) -> np.ndarray:
    """Return the H-Box (min/max of the corners) of each quad, shape ``(N, 4)``."""
    pts = np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2)
    return np.concatenate([pts.min(axis=1), pts.max(axis=1)], axis=1)


def rbox_to_quad(rboxes: np.ndarray) -> np.ndarray:
    """Return the four corners of each R-Box, shape ``(N, 8)``."""
    rboxes = np.asarray(rboxes, dtype=np.float64).reshape(-1, 5)
    return rbox2qbox(torch.from_numpy(rboxes)).numpy()


def quad_to_rbox(quads: np.ndarray) -> np.ndarray:
    """Return the minimum-area R-Box of each quad, shape ``(N, 5)``, angle in radians."""
    quads = np.asarray(quads, dtype=np.float32).reshape(-1, 8)
    if len(quads) == 0:
        return np.zeros((0, 5), dtype=np.float64)
    return qbox2rbox(torch.from_numpy(quads)).numpy().astype(np.float64)


def rbox_to_rhbox(rboxes: np.ndarray) -> np.ndarray:
    """Return the RH-Box (circumscribed horizontal box) of each R-Box, shape ``(N, 4)``."""
    return quad_to_hbox(rbox_to_quad(rboxes))


def clip_hboxes(hboxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip H-Boxes to the image ``[0, width] x [0, height]``."""
    hboxes = np.asarray(hboxes, dtype=np.float64).reshape(-1, 4).copy()
    hboxes[:, 0::2] = hboxes[:, 0::2].clip(0, width)
    hboxes[:, 1::2] = hboxes[:, 1::2].clip(0, height)
    return hboxes


def hbox_areas(hboxes: np.ndarray) -> np.ndarray:
    """Return the area of each H-Box (0 for degenerate boxes)."""
    hboxes = np.asarray(hboxes, dtype=np.float64).reshape(-1, 4)
    return (hboxes[:, 2] - hboxes[:, 0]).clip(0) * (hboxes[:, 3] - hboxes[:, 1]).clip(0)


def rasterize_quads(quads: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Fill each quad into a boolean mask of ``shape`` (H, W); returns ``(N, H, W)``.

    Pixel ``(i, j)`` is inside when its centre ``(j + 0.5, i + 0.5)`` is inside the
    polygon (even-odd rule; left/top edges inclusive, right/bottom exclusive), so a box
    with integer corners covers exactly its area in pixels and boxes sharing an edge do
    not overlap. Only the quad's bounding window is evaluated.
    """
    quads = np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2)
    height, width = shape
    masks = np.zeros((len(quads), height, width), dtype=bool)
    for mask, quad in zip(masks, quads):
        (xmin, ymin), (xmax, ymax) = quad.min(axis=0), quad.max(axis=0)
        r0, r1 = max(math.ceil(ymin - 0.5), 0), min(math.ceil(ymax - 0.5), height)
        c0, c1 = max(math.ceil(xmin - 0.5), 0), min(math.ceil(xmax - 0.5), width)
        if r1 <= r0 or c1 <= c0:
            continue
        (x0, y0), (x1, y1) = quad.T, np.roll(quad, -1, axis=0).T
        ys = np.arange(r0, r1)[:, None] + 0.5
        crosses = (np.minimum(y0, y1) <= ys) & (ys < np.maximum(y0, y1))  # (rows, edges)
        with np.errstate(divide='ignore', invalid='ignore'):
            xs = np.where(crosses, x0 + (ys - y0) / (y1 - y0) * (x1 - x0), np.inf)
        centres = np.arange(c0, c1) + 0.5
        mask[r0:r1, c0:c1] = (xs[:, :, None] <= centres).sum(axis=1) % 2 == 1
    return masks
