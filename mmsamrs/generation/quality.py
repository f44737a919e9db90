"""Quality control of generated masks: per-object measures and flags.

Three measures per object, all cheap (cost proportional to the object's crop):

* ``score``: SAM's predicted IoU (kept by the generator);
* ``box_iou``: IoU between the mask's own H-Box and the object's annotated H-Box (the box
  the prompts are made from): a mask that grew onto a neighbour, or shrank onto a part,
  disagrees with its box;
* ``outside``: the fraction of mask pixels whose centre lies outside the annotated H-Box.

An empty mask has ``box_iou`` 0 and ``outside`` 0.
"""
from __future__ import annotations

import math
from typing import Dict, List, NamedTuple, Sequence

import numpy as np

from .crops import Crop

#: Names of the checks, in the column order of :attr:`QualityMeasures.flags`.
FLAG_NAMES = ('low_score', 'low_box_iou', 'outside_box')


def mask_box_iou(crop: Crop, hbox: Sequence[float]) -> float:
    """IoU of the mask's tight H-Box (pixel edges) and ``hbox`` ``[x1, y1, x2, y2]``."""
    x, y, w, h = crop.bbox()
    if w == 0:
        return 0.0
    x1, y1, x2, y2 = (float(v) for v in hbox)
    iw = max(0.0, min(x + w, x2) - max(x, x1))
    ih = max(0.0, min(y + h, y2) - max(y, y1))
    inter = iw * ih
    union = w * h + max(x2 - x1, 0.0) * max(y2 - y1, 0.0) - inter
    return inter / union if union > 0 else 0.0


def outside_fraction(crop: Crop, hbox: Sequence[float]) -> float:
    """Fraction of the mask's pixels whose centre ``(x + 0.5, y + 0.5)`` is outside ``hbox``."""
    area = crop.area
    if area == 0:
        return 0.0
    x1, y1, x2, y2 = (float(v) for v in hbox)
    h, w = crop.mask.shape
    # columns c (image frame) with x1 <= c + 0.5 <= x2, as indices into the crop
    c0 = min(max(math.ceil(x1 - 0.5) - crop.x0, 0), w)
    c1 = min(max(math.floor(x2 - 0.5) + 1 - crop.x0, c0), w)
    r0 = min(max(math.ceil(y1 - 0.5) - crop.y0, 0), h)
    r1 = min(max(math.floor(y2 - 0.5) + 1 - crop.y0, r0), h)
    inside = int(np.count_nonzero(crop.mask[r0:r1, c0:c1]))
    return (area - inside) / area


class QualityMeasures(NamedTuple):
    """Per-object measures of one image: ``box_iou``, ``outside`` ``(N,)`` float and
    ``flags`` ``(N, 3)`` bool (columns :data:`FLAG_NAMES`)."""

    box_iou: np.ndarray
    outside: np.ndarray
    flags: np.ndarray

    @property
    def flagged(self) -> np.ndarray:
        """``(N,)`` bool: objects that failed at least one check."""
        return self.flags.any(axis=1)

    def flag_names(self, index: int) -> List[str]:
        """Names of the checks object ``index`` failed."""
        return [name for name, bad in zip(FLAG_NAMES, self.flags[index]) if bad]


class QualityControl:
    """Measure and flag generated masks (``test_cfg.quality`` of the generation loop).

    Config::

        test_cfg = dict(type='GenerationLoop', ...,
                        quality=dict(min_score=0.5, min_box_iou=0.5, max_outside=0.25,
                                     drop_flagged=False))

    An object is flagged ``low_score`` when SAM's predicted IoU is below ``min_score``,
    ``low_box_iou`` when ``box_iou`` is below ``min_box_iou``, and ``outside_box`` when
    more than ``max_outside`` of its pixels lie outside its box. The writer stores the
    measures and flags in every annotation of ``instances.json``, counts flagged objects
    per class in the run summary and, with ``drop_flagged``, leaves flagged objects out
    of the label PNGs (their pixels stay 255 unless another object covers them).

    Args:
        min_score: lowest acceptable SAM predicted IoU.
        min_box_iou: lowest acceptable IoU between the mask's box and the object's box.
        max_outside: highest acceptable fraction of mask pixels outside the object's box.
        drop_flagged: do not paint flagged objects (they stay in ``instances.json`` with
            ``painted: false``).
    """

    def __init__(self, min_score: float = 0.5, min_box_iou: float = 0.5,
                 max_outside: float = 0.25, drop_flagged: bool = False) -> None:
        for name, value in (('min_score', min_score), ('min_box_iou', min_box_iou),
                            ('max_outside', max_outside)):
            if not 0 <= value <= 1:
                raise ValueError(f'{name} must lie in [0, 1], got {value}')
        self.min_score = float(min_score)
        self.min_box_iou = float(min_box_iou)
        self.max_outside = float(max_outside)
        self.drop_flagged = bool(drop_flagged)

    def measure(self, crops: Sequence[Crop], hboxes: np.ndarray,
                scores: np.ndarray) -> QualityMeasures:
        """Measures and flags of one image's objects (crops in the image frame)."""
        box_iou = np.array([mask_box_iou(c, b) for c, b in zip(crops, hboxes)], np.float64)
        outside = np.array([outside_fraction(c, b) for c, b in zip(crops, hboxes)],
                           np.float64)
        flags = np.stack([np.asarray(scores, np.float64) < self.min_score,
                          box_iou < self.min_box_iou, outside > self.max_outside],
                         axis=1).reshape(len(crops), len(FLAG_NAMES))
        return QualityMeasures(box_iou, outside, flags)

    def settings(self) -> Dict[str, float]:
        """The thresholds and the drop option (for the run summary)."""
        return dict(min_score=self.min_score, min_box_iou=self.min_box_iou,
                    max_outside=self.max_outside, drop_flagged=self.drop_flagged)
