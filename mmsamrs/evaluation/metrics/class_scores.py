"""Per-class scores in the layout of the paper's fine-tuning tables (Tables 3-4)."""
from collections import OrderedDict
from typing import Dict, List

import numpy as np
from mmengine.logging import print_log
from prettytable import PrettyTable

from mmsamrs.registry import METRICS
from .seg_iou import SegIoUMetric

#: score -> (mmseg's metric computing it, its key in ``total_area_to_metrics``)
SCORES = dict(F1=('mFscore', 'Fscore'), IoU=('mIoU', 'IoU'))


@METRICS.register_module()
class ClassScoreMetric(SegIoUMetric):
    """mmseg's ``IoUMetric`` reporting one row of the paper's table, in percent.

    Config usage (``val_evaluator=...``/``test_evaluator=...``)::

        dict(type='ClassScoreMetric', score='F1')   # Potsdam, Table 3
        dict(type='ClassScoreMetric', score='IoU')  # iSAID, Table 4

    Pixels are counted by mmseg (``IoUMetric.intersect_and_union`` in ``process``) and
    scored by :meth:`SegIoUMetric.total_area_to_metrics` over the dataset's classes;
    pixels labelled ``ignore_index`` (255: Potsdam's clutter, iSAID's background) are not
    counted.

    * ``score='F1'``: ``F1/<class>`` for each class, ``OA`` (correct / labelled pixels)
      and ``mF1`` (mean of the class F1s) -- Table 3's columns.
    * ``score='IoU'``: ``IoU/<class>`` and ``mIoU`` -- Table 4's columns.

    A class labelled but never predicted correctly scores 0 and counts in the mean; only a
    class absent from both labels and predictions scores NaN and is left out of the mean
    (``nan_to_num`` replaces NaN). F1 is ``2 TP / (2 TP + FP + FN)`` per class
    (:class:`SegIoUMetric`): mmseg's F-score would give NaN for a missed class and leave it
    out of mF1, which inflates mF1 (and ``save_best``) early in training. The row is logged
    as a table with one column per class, headed by the class names. Use
    ``save_best='mF1'`` or ``'mIoU'``.

    Args:
        score: ``'F1'`` or ``'IoU'``.
        **kwargs: As mmseg's ``IoUMetric`` (``ignore_index``, ``nan_to_num``, ``beta``,
            ``output_dir``, ``format_only``, ...), except ``iou_metrics``.
    """

    def __init__(self, score: str = 'IoU', **kwargs) -> None:
        if score not in SCORES:
            raise ValueError(f'score must be one of {list(SCORES)}, got {score!r}')
        super().__init__(iou_metrics=[SCORES[score][0]], **kwargs)
        self.score = score

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Score the summed pixel counts; log and return the table row."""
        if self.format_only:
            return super().compute_metrics(results)
        totals = [sum(areas) for areas in zip(*results)]
        scores = self.total_area_to_metrics(*totals, self.metrics, self.nan_to_num, self.beta)
        per_class = scores[SCORES[self.score][1]] * 100
        row = OrderedDict((f'{self.score}/{name}', round(float(value), 2))
                          for name, value in zip(self.dataset_meta['classes'], per_class))
        if self.score == 'F1':
            row['OA'] = round(float(scores['aAcc']) * 100, 2)
        row[f'm{self.score}'] = round(float(np.nanmean(per_class)), 2)
        table = PrettyTable([key.split('/')[-1] for key in row])
        table.add_row(list(row.values()))
        print_log(f'{self.score} per class (%):\n{table.get_string()}', 'current')
        return row
