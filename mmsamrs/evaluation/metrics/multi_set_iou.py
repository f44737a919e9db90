"""Per-set IoU of a multi-head segmentor: mIoU per SAMRS set and their mean (Table 9)."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.evaluation import IoUMetric
from prettytable import PrettyTable

from mmsamrs.models.segmentors import SET_KEY
from mmsamrs.registry import METRICS


@METRICS.register_module()
class MultiSetIoUMetric(BaseMetric):
    """mmseg's IoU metric kept separately for each label set, plus the mean over sets.

    Config usage (``val_evaluator=...``/``test_evaluator=...``)::

        sets = dict(SOTA=18, SIOR=20, FAST=37)   # the model's ``heads``
        val_evaluator = dict(type='MultiSetIoUMetric', num_classes=sets,
                             iou_metrics=['mIoU'])  # optional class_names=dict(SOTA=(...))

    Each prediction is scored against the classes of its own set, named by its
    ``metainfo['dataset_name']``. Per set, the areas come from
    ``IoUMetric.intersect_and_union`` and the scores from mmseg's own
    ``IoUMetric.compute_metrics`` (which also logs the per-class table). Returned keys:
    ``<SET>/aAcc``, ``<SET>/mIoU``, ``<SET>/mAcc`` (and ``mDice``/``mFscore``... when asked)
    for every set with samples, and ``<metric>_mean`` (e.g. ``mIoU_mean``: the "Average"
    column of the paper's Table 9) over those sets. A table in Table 9's layout (one column
    per set, then ``Average``) is logged. Use ``save_best='mIoU_mean'`` to keep the best
    checkpoint.

    Args:
        num_classes: Set name -> number of classes.
        class_names: Optional set name -> class names, for the per-class tables
            (default: class indices).
        ignore_index, iou_metrics, nan_to_num, beta: As mmseg's ``IoUMetric``.
        collect_device, prefix: As mmengine's ``BaseMetric``.
    """

    def __init__(self,
                 num_classes: Dict[str, int],
                 class_names: Optional[Dict[str, Sequence[str]]] = None,
                 ignore_index: int = 255,
                 iou_metrics: Sequence[str] = ('mIoU', ),
                 nan_to_num: Optional[int] = None,
                 beta: int = 1,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        class_names = dict(class_names or {})
        unknown = set(class_names) - set(num_classes)
        if unknown:
            raise KeyError(f'class_names for sets without num_classes: {sorted(unknown)}')
        self.num_classes = dict(num_classes)
        self.ignore_index = ignore_index
        self._set_metrics: Dict[str, IoUMetric] = {}
        for name, n in self.num_classes.items():
            names = tuple(class_names.get(name, (str(i) for i in range(n))))
            if len(names) != n:
                raise ValueError(f'set {name!r}: {len(names)} class names for {n} classes')
            metric = IoUMetric(ignore_index=ignore_index, iou_metrics=list(iou_metrics),
                               nan_to_num=nan_to_num, beta=beta)
            metric.dataset_meta = dict(classes=names)
            self._set_metrics[name] = metric

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store ``(set, intersect, union, pred area, label area)`` for each sample."""
        for sample in data_samples:
            name = sample[SET_KEY]
            if name not in self.num_classes:
                raise KeyError(f'sample of set {name!r}, which the metric does not know; '
                               f'known sets: {list(self.num_classes)}')
            pred = sample['pred_sem_seg']['data'].squeeze()
            label = sample['gt_sem_seg']['data'].squeeze().to(pred)
            self.results.append((name, *IoUMetric.intersect_and_union(
                pred, label, self.num_classes[name], self.ignore_index)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Score each set with mmseg's IoU, then average each score over the sets."""
        areas = defaultdict(list)
        for name, *set_areas in results:
            areas[name].append(set_areas)
        per_set: Dict[str, Dict[str, float]] = {}
        for name, metric in self._set_metrics.items():
            if not areas[name]:
                print_log(f'{name}: no validation samples, left out of the mean', 'current')
                continue
            print_log(f'{name}:', 'current')
            per_set[name] = {
                key: round(float(value), 2)
                for key, value in metric.compute_metrics(areas[name]).items()}
        keys = list(next(iter(per_set.values()))) if per_set else []
        means = {key: round(float(np.mean([m[key] for m in per_set.values()])), 2)
                 for key in keys}

        table = PrettyTable(['', *per_set, 'Average'])
        for key in keys:
            table.add_row([key, *(m[key] for m in per_set.values()), means[key]])
        print_log('per set results:\n' + table.get_string(), 'current')

        metrics = {f'{name}/{key}': value
                   for name, m in per_set.items() for key, value in m.items()}
        metrics.update({f'{key}_mean': value for key, value in means.items()})
        return metrics
