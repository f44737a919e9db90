"""Semantic label maps from instance mask crops, with a deterministic overlap policy."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from mmsamrs.utils import IGNORE_INDEX
from .crops import Crop
OVERLAP_POLICIES = ('small_on_top', 'score', 'last')


def paint_order(policy: str, areas: np.ndarray, scores: np.ndarray,
                keep: Optional[np.ndarray] = None) -> np.ndarray:
    """Indices of the instances to paint, in painting order (the last one ends on top).

    * ``'small_on_top'``: larger masks first, so a smaller mask stays visible on a larger
      one it overlaps; equal areas keep annotation order (the later one on top).
    * ``'score'``: lower SAM score first, so the higher score is on top; ties as above.
    * ``'last'``: annotation order, the last one wins (as the public SAMRS release).

    Instances with ``keep[i] == False`` are left out.
    """
    index = np.arange(len(areas))
    if policy == 'small_on_top':
        order = np.lexsort((index, -np.asarray(areas, dtype=np.int64)))
    elif policy == 'score':
        order = np.lexsort((index, np.asarray(scores, dtype=np.float64)))
    elif policy == 'last':
        order = index
    else:
        raise ValueError(f'overlap_policy must be one of {OVERLAP_POLICIES}, got {policy!r}')
    if keep is not None:
        order = order[np.asarray(keep, dtype=bool)[order]]
    return order


def paint_labels(shape: Tuple[int, int], labels: np.ndarray, crops: Sequence[Crop],
                 order: np.ndarray) -> np.ndarray:
    """Paint ``labels[i]`` into the foreground of ``crops[i]`` for ``i`` in ``order``.

    Returns a ``uint8`` map of ``shape`` where unpainted pixels are ``255``. Each instance
    costs a boolean assignment inside its own crop window.
    """
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= IGNORE_INDEX):
        raise ValueError(f'labels must lie in [0, {IGNORE_INDEX - 1}], got {labels}')
    label_map = np.full(shape, IGNORE_INDEX, dtype=np.uint8)
    for i in order:
        mask, x0, y0 = crops[i]
        h, w = mask.shape
        label_map[y0:y0 + h, x0:x0 + w][mask] = labels[i]
    return label_map

