"""Per-set IoU of a multi-head segmentor: mIoU per SAMRS set and their mean (Table 9)."""
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.evaluation import IoUMetric
from PIL import Image
from prettytable import PrettyTable

from mmsamrs.datasets.class_names import FAST_CLASSES, SIOR_CLASSES, SOTA_CLASSES
from mmsamrs.models.segmentors import SET_KEY
from mmsamrs.registry import METRICS
from mmsamrs.utils import IGNORE_INDEX, atomic_open
from .seg_iou import SegIoUMetric

#: class names of the SAMRS sets, used when ``class_names`` does not name a set's classes
SAMRS_CLASS_NAMES = dict(SOTA=SOTA_CLASSES, SIOR=SIOR_CLASSES, FAST=FAST_CLASSES)


@METRICS.register_module()
class MultiSetIoUMetric(BaseMetric):
    """mmseg's IoU metric kept separately for each label set, plus the mean over sets.

    Config usage (``val_evaluator=...``/``test_evaluator=...``)::

        # the sets, classes and class names of the loader's SAMRSMultiSetDataset
        val_evaluator = dict(type='MultiSetIoUMetric', iou_metrics=['mIoU'])
        # or explicit: num_classes=dict(SOTA=18, SIOR=20), class_names=dict(SOTA=(...))

    Each prediction is scored against the classes of its own set, named by its
    ``metainfo['dataset_name']``. Per set, the areas come from
    ``IoUMetric.intersect_and_union`` and the scores from mmseg's
    ``IoUMetric.compute_metrics`` (which also logs the per-class table, one row per class
    name) with :class:`SegIoUMetric`'s rule: a class labelled but never predicted scores 0,
    and only a class absent from both labels and predictions is NaN and left out of the
    set's mean. Returned keys:
    ``<SET>/aAcc``, ``<SET>/mIoU``, ``<SET>/mAcc`` (and ``mDice``/``mFscore``... when asked)
    for every set with samples, and ``<metric>_mean`` (e.g. ``mIoU_mean``: the "Average"
    column of the paper's Table 9) over those sets. A table in Table 9's layout (one column
    per set, then ``Average``) is logged. Use ``save_best='mIoU_mean'`` to keep the best
    checkpoint.

    Args:
        num_classes: Set name -> number of classes; None (default): the sets of the
            evaluated dataset's ``metainfo['sets']`` (``SAMRSMultiSetDataset``), with their
            class names.
        class_names: Optional set name -> class names, for the per-class tables
            (default: the dataset's class names; SOTA, SIOR and FAST also default to
            their own classes). A set without class names is refused.
        ignore_index, iou_metrics, nan_to_num, beta: As mmseg's ``IoUMetric``.
        output_dir: Optional folder for each prediction as ``<image stem>.png`` (class
            indices of the sample's own set), as mmseg's ``IoUMetric``.
        format_only: Only write the predictions (``output_dir``), score nothing.
        collect_device, prefix: As mmengine's ``BaseMetric``.
    """

    def __init__(self,
                 num_classes: Optional[Dict[str, int]] = None,
                 class_names: Optional[Dict[str, Sequence[str]]] = None,
                 ignore_index: int = IGNORE_INDEX,
                 iou_metrics: Sequence[str] = ('mIoU', ),
                 nan_to_num: Optional[int] = None,
                 beta: int = 1,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and output_dir is None:
            raise ValueError('MultiSetIoUMetric: format_only needs an output_dir')
        self.output_dir, self.format_only = output_dir, format_only
        if output_dir is not None:
            os.makedirs(output_dir, exist_ok=True)
        self.class_names = dict(class_names or {})
        self.ignore_index = ignore_index
        self.iou_cfg = dict(ignore_index=ignore_index, iou_metrics=list(iou_metrics),
                            nan_to_num=nan_to_num, beta=beta)
        self.num_classes: Dict[str, int] = {}
        self._set_metrics: Dict[str, IoUMetric] = {}
        self._sets_from_dataset = num_classes is None
        if num_classes is not None:
            self._set_sets(num_classes, self.class_names)

    def _set_sets(self, num_classes: Dict[str, int],
                  class_names: Dict[str, Sequence[str]]) -> None:
        """One :class:`SegIoUMetric` per set, its classes named."""
        unknown = set(class_names) - set(num_classes)
        if unknown:
            raise KeyError(f'class_names for sets without num_classes: {sorted(unknown)}')
        self.num_classes = dict(num_classes)
        self._set_metrics = {}
        for name, n in self.num_classes.items():
            if name not in class_names and name not in SAMRS_CLASS_NAMES:
                raise ValueError(f'set {name!r}: no class names for the per-class table; '
                                 f'give class_names=dict({name}=(...{n} names...))')
            names = tuple(class_names.get(name, SAMRS_CLASS_NAMES.get(name)))
            if len(names) != n:
                raise ValueError(f'set {name!r}: {len(names)} class names for {n} classes')
            metric = SegIoUMetric(**self.iou_cfg)
            metric.dataset_meta = dict(classes=names)
            self._set_metrics[name] = metric

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Metainfo of the evaluated dataset."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        """Take the sets of a ``SAMRSMultiSetDataset`` unless ``num_classes`` was given."""
        self._dataset_meta = dataset_meta
        sets = (dataset_meta or {}).get('sets')
        if sets and self._sets_from_dataset:
            self._set_sets({name: len(meta['classes']) for name, meta in sets.items()},
                           {name: meta['classes'] for name, meta in sets.items()}
                           | self.class_names)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store ``(set, intersect, union, pred area, label area)`` for each sample."""
        if not self.num_classes:
            raise ValueError('MultiSetIoUMetric knows no set: give num_classes, or evaluate '
                             "a dataset whose metainfo lists them under 'sets' "
                             '(SAMRSMultiSetDataset)')
        for sample in data_samples:
            name = sample[SET_KEY]
            if name not in self.num_classes:
                raise KeyError(f'sample of set {name!r}, which the metric does not know; '
                               f'known sets: {list(self.num_classes)}')
            pred = sample['pred_sem_seg']['data'].squeeze()
            if self.output_dir is not None:
                stem = osp.splitext(osp.basename(sample['img_path']))[0]
                with atomic_open(osp.join(self.output_dir, f'{stem}.png')) as f:
                    Image.fromarray(pred.cpu().numpy().astype(np.uint8)).save(f, 'PNG')
            if self.format_only:
                continue
            label = sample['gt_sem_seg']['data'].squeeze().to(pred)
            self.results.append((name, *IoUMetric.intersect_and_union(
                pred, label, self.num_classes[name], self.ignore_index)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Score each set with mmseg's IoU, then average each score over the sets."""
        if self.format_only:
            print_log(f'predictions written to {self.output_dir}', 'current')
            return {}
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
