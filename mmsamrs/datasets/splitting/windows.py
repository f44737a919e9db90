"""Window grid and the inside-fraction rule that cuts objects into windows.

Rule (after the DOTA devkit's ``ImgSplit``), for an object given by its four corners:

1. The object is the convex hull of its corners, clipped to the image (as the readers clip
   its H-Box). Its *inside fraction* for a window is ``area(object ∩ window) / area(object)``.
2. An object whose corners all lie in the window is kept unchanged (fraction 1).
3. Otherwise it is kept when its inside fraction is ``>= min_inside`` (devkit: 0.7) and
   replaced by ``object ∩ window``; a zero-area object has fraction 0 unless rule 2 holds.
   Smaller parts are dropped (the devkit writes them with difficult 2).
4. The clipped polygon is written as a quadrilateral: with more than four vertices, the
   vertex whose removal loses the least area is removed, one at a time, among the vertices
   whose removal keeps the polygon's H-Box (so the quad has exactly the H-Box of the
   clipped object, the SAMRS H-Box prompt; the devkit instead merges a pentagon's shortest
   edge and drops polygons with more vertices); a triangle gets the midpoint of its longest
   edge as fourth vertex. The quad keeps the orientation of the original corners and
   starts at the corner nearest to the original first corner (devkit's
   ``choose_best_pointorder_fit_another``).
"""
import math
from typing import List, Tuple

import numpy as np
import shapely

from mmsamrs.structures import quad_to_hbox


def check_split(size: int, overlap: int, min_inside: float) -> None:
    """Raise ``ValueError`` unless ``size > 0``, ``0 <= overlap < size`` and
    ``0 < min_inside <= 1``."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f'need size > 0 and 0 <= overlap < size, got {size=}, {overlap=}')
    if not 0 < min_inside <= 1:
        raise ValueError(f'min_inside must be in (0, 1], got {min_inside}')


def window_starts(length: int, size: int, overlap: int) -> List[int]:
    """Return the window offsets along one image axis of ``length`` pixels.

    Offsets step by ``size - overlap`` (see :func:`check_split` for valid values); when
    the image is longer than a window, the last window is moved back to end exactly at the
    image edge (no sliver windows). An axis no longer than ``size`` gets the single offset
    0 (the window is padded).
    """
    if length <= size:
        return [0]
    step = size - overlap
    num = math.ceil((length - size) / step) + 1
    starts = [i * step for i in range(num)]
    starts[-1] = length - size
    return starts


def sliding_windows(width: int, height: int, size: int, overlap: int) -> np.ndarray:
    """Return the ``(N, 2)`` top-left corners ``(x, y)`` of the windows, row by row."""
    xs = window_starts(width, size, overlap)
    ys = window_starts(height, size, overlap)
    return np.array([(x, y) for y in ys for x in xs], dtype=np.int64).reshape(-1, 2)


def polygon_to_quad(coords: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Approximate a convex polygon by a quad (rule 4 of the module docstring).

    Args:
        coords: ``(K, 2)`` polygon vertices in order, ``K >= 3``, no repeated closing point.
        reference: the object's original 8 corner coordinates (orientation, start corner).

    Returns:
        The 8 coordinates of the quad.
    """
    pts = np.asarray(coords, dtype=np.float64)
    while len(pts) > 4:
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        losses = []
        for i in range(len(pts)):
            rest = np.delete(pts, i, axis=0)
            keeps_hbox = (rest.min(axis=0) == lo).all() and (rest.max(axis=0) == hi).all()
            losses.append(_triangle_area(pts[i - 1], pts[i], pts[(i + 1) % len(pts)])
                          if keeps_hbox else np.inf)
        pts = np.delete(pts, int(np.argmin(losses)), axis=0)
    if len(pts) == 3:
        edges = np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1)
        i = int(np.argmax(edges))
        pts = np.insert(pts, i + 1, (pts[i] + pts[(i + 1) % 3]) / 2, axis=0)
    ref = np.asarray(reference, dtype=np.float64).reshape(4, 2)
    if _signed_area(pts) * _signed_area(ref) < 0:
        pts = pts[::-1]
    costs = [((np.roll(pts, -k, axis=0) - ref)**2).sum() for k in range(4)]
    return np.roll(pts, -int(np.argmin(costs)), axis=0).reshape(8)


class WindowClipper:
    """The objects of one image, ready to be cut into windows by the inside-fraction rule.

    Args:
        quads: ``(N, 8)`` object corners in image coordinates.
        width, height: image size; objects are clipped to it first.
        min_inside: the smallest inside fraction of a kept cut object, in ``(0, 1]``.
    """

    def __init__(self, quads: np.ndarray, width: int, height: int, min_inside: float) -> None:
        self.quads = np.asarray(quads, dtype=np.float64).reshape(-1, 8)
        self.min_inside = min_inside
        self.hboxes = quad_to_hbox(self.quads)
        hulls = shapely.convex_hull(shapely.multipoints(self.quads.reshape(-1, 4, 2)))
        self.polygons = shapely.intersection(hulls, shapely.box(0, 0, width, height))
        self.areas = shapely.area(self.polygons)

    def clip(self, window: Tuple[float, float, float, float]
             ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cut the objects by one window ``(x1, y1, x2, y2)`` (image coordinates).

        Returns:
            ``(indices, quads, fractions)``: the kept objects' indices, their ``(K, 8)``
            corners (unchanged or clipped, image coordinates) and inside fractions; objects
            that overlap the window but are dropped are not returned.
        """
        x1, y1, x2, y2 = window
        hb = self.hboxes
        inside = (hb[:, 0] >= x1) & (hb[:, 1] >= y1) & (hb[:, 2] <= x2) & (hb[:, 3] <= y2)
        overlaps = (hb[:, 0] < x2) & (hb[:, 2] > x1) & (hb[:, 1] < y2) & (hb[:, 3] > y1)
        cut = np.flatnonzero(overlaps & ~inside & (self.areas > 0))
        pieces = shapely.intersection(self.polygons[cut], shapely.box(x1, y1, x2, y2))
        fractions = shapely.area(pieces) / self.areas[cut]
        keep = fractions >= self.min_inside
        cut, pieces, fractions = cut[keep], pieces[keep], fractions[keep]
        clipped = [
            polygon_to_quad(shapely.get_coordinates(piece.exterior)[:-1], self.quads[i])
            for i, piece in zip(cut, pieces)
        ]
        whole = np.flatnonzero(inside)
        indices = np.concatenate([whole, cut])
        quads = np.concatenate([self.quads[whole], np.reshape(clipped, (-1, 8))])
        order = np.argsort(indices, kind='stable')
        fractions = np.concatenate([np.ones(len(whole)), fractions])
        return indices[order], quads[order], fractions[order]


def _signed_area(pts: np.ndarray) -> float:
    """Shoelace signed area of a polygon given as ``(K, 2)`` vertices."""
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _triangle_area(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Area of the triangle ``abc``."""
    return 0.5 * abs(float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])))
