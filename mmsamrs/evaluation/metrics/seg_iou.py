"""mmseg's IoU metric with F-scores that count a missed class as 0, not as NaN."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmseg.evaluation import IoUMetric


def class_fscore(area_intersect: np.ndarray, area_pred: np.ndarray, area_label: np.ndarray,
                 beta: float = 1) -> np.ndarray:
    """Per-class F-beta score ``(1 + b^2) TP / (b^2 (TP + FN) + TP + FP)``.

    ``TP + FN`` is the labelled area and ``TP + FP`` the predicted area of the class, so a
    class that is labelled but never predicted (or predicted but never labelled, or both
    but never correctly) scores 0; NaN only for a class absent from labels and
    predictions. mmseg's ``IoUMetric`` computes the score from precision and recall, and so
    gives NaN whenever one of them is 0/0 or both are 0.
    """
    intersect, pred, label = (np.asarray(a, dtype=np.float64)
                              for a in (area_intersect, area_pred, area_label))
    with np.errstate(divide='ignore', invalid='ignore'):
        return (1 + beta**2) * intersect / (beta**2 * label + pred)


class SegIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` whose ``Fscore`` follows :func:`class_fscore`.

    Per class, every score is NaN only when the class is absent from both the labels and
    the predictions, and is then left out of the mean; a class with labels and no correct
    prediction scores 0. mmseg's ``IoU`` and ``Dice`` already follow this rule (their
    denominators are the union and the sum of the two areas); its ``Fscore`` does not.
    ``Acc``, ``Precision`` and ``Recall`` stay as mmseg defines them (NaN where their own
    denominator, the labelled or the predicted area, is 0). A base class: metrics of
    mmsamrs derive from it or build it; its arguments are ``IoUMetric``'s.
    """

    @staticmethod
    def total_area_to_metrics(total_area_intersect: np.ndarray,
                              total_area_union: np.ndarray,
                              total_area_pred_label: np.ndarray,
                              total_area_label: np.ndarray,
                              metrics: Sequence[str] = ('mIoU', ),
                              nan_to_num: Optional[int] = None,
                              beta: int = 1) -> Dict[str, np.ndarray]:
        """mmseg's scores, with ``Fscore`` replaced by :func:`class_fscore`."""
        scores = IoUMetric.total_area_to_metrics(
            total_area_intersect, total_area_union, total_area_pred_label, total_area_label,
            metrics, nan_to_num, beta)
        if 'Fscore' in scores:
            fscore = class_fscore(total_area_intersect, total_area_pred_label,
                                  total_area_label, beta)
            scores['Fscore'] = (fscore if nan_to_num is None else
                                np.nan_to_num(fscore, nan=nan_to_num))
        return scores
