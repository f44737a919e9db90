"""Instance IoU of generated masks against ground-truth masks (paper section 2.4, Eq. 1)."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from prettytable import PrettyTable

from mmsamrs.registry import METRICS


def crop_intersection(mask_a: np.ndarray, offset_a: Sequence[int], mask_b: np.ndarray,
                      offset_b: Sequence[int]) -> int:
    """Pixels set in both of two mask crops placed at ``(x0, y0)`` offsets in one frame."""
    (ha, wa), (hb, wb) = mask_a.shape, mask_b.shape
    xa, ya = int(offset_a[0]), int(offset_a[1])
    xb, yb = int(offset_b[0]), int(offset_b[1])
    x0, y0 = max(xa, xb), max(ya, yb)
    x1, y1 = min(xa + wa, xb + wb), min(ya + ha, yb + hb)
    if x1 <= x0 or y1 <= y0:
        return 0
    return int(np.count_nonzero(mask_a[y0 - ya:y1 - ya, x0 - xa:x1 - xa]
                                & mask_b[y0 - yb:y1 - yb, x0 - xb:x1 - xb]))


def iou_scores(intersections: np.ndarray, unions: np.ndarray) -> Dict[str, float]:
    """``mIoU_I`` (mean of ``I_i / U_i``) and ``mIoU_P`` (``sum I / sum U``), in percent."""
    if not len(unions):
        return dict(mIoU_I=float('nan'), mIoU_P=float('nan'))
    return dict(mIoU_I=float(np.mean(intersections / unions) * 100),
                mIoU_P=float(intersections.sum() / unions.sum() * 100))


@METRICS.register_module()
class InstanceIoUMetric(BaseMetric):
    """mIoU_I and mIoU_P of SAM's masks against ground-truth instance masks (Table 1).

    Config (``test_evaluator`` of a generation config whose pipeline runs
    ``LoadInstanceMasks``, e.g. ``configs/gen/hrsc_prompts.py``)::

        test_evaluator = dict(type='InstanceIoUMetric')

    For every instance whose ground-truth mask is not empty, ``I_i`` and ``U_i`` are the
    intersection and union (in pixels) of its predicted mask (the ``mask_crops`` /
    ``mask_offsets`` of ``SAMGenerator``'s result; an empty prediction gives IoU 0) and
    its ground truth (``gt_mask_crops`` / ``gt_mask_offsets`` of the packed sample).
    Instances without a ground-truth mask are left out and counted; images that failed to
    load are counted. Returned keys (IoUs in percent, NaN when nothing was evaluated):
    ``mIoU_I`` = mean of ``I_i / U_i``, ``mIoU_P`` = ``sum I_i / sum U_i``, ``instances``
    (evaluated), ``without_mask``, ``images``, ``failed_images``, and
    ``mIoU_I/<class>``, ``mIoU_P/<class>`` for each class with evaluated instances. A
    per-class table is logged. After evaluation :attr:`per_instance` holds one record
    per evaluated instance (``img_id``, ``index`` in the image, ``label``, ``class``,
    ``intersection``, ``union``, ``iou``).

    Args:
        collect_device, prefix: as mmengine's ``BaseMetric``.
        title: heading of the logged per-class table (the prompt study puts the setting
            in it).
    """

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None,
                 title: str = 'per-class instance IoU') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.title = title
        self.per_instance: List[Dict[str, Any]] = []

    def process(self, data_batch: Dict, data_samples: Sequence[dict]) -> None:
        """Intersection and union of every instance of each image of the batch."""
        for sample, result in zip(data_batch['data_samples'], data_samples):
            if result.get('error') is not None:
                self.results.append(dict(img_id=result['img_id'], failed=True))
                continue
            if 'gt_mask_crops' not in sample:
                raise KeyError(f'{result["img_path"]}: the data sample has no ground-truth '
                               "masks; add dict(type='LoadInstanceMasks') to the pipeline")
            labels = np.asarray(result['labels'], dtype=np.int64)
            gt_crops, gt_offsets = sample.gt_mask_crops, sample.gt_mask_offsets
            if not len(gt_crops) == len(result['mask_crops']) == len(labels):
                raise ValueError(f'{result["img_path"]}: {len(gt_crops)} ground-truth masks, '
                                 f'{len(result["mask_crops"])} predicted masks and '
                                 f'{len(labels)} labels')
            index, inter, union = [], [], []
            for i, (gt, gt_offset, pred, pred_offset) in enumerate(
                    zip(gt_crops, gt_offsets, result['mask_crops'], result['mask_offsets'])):
                gt_area = int(np.count_nonzero(gt))
                if gt_area == 0:
                    continue
                overlap = crop_intersection(gt, gt_offset, pred, pred_offset)
                index.append(i)
                inter.append(overlap)
                union.append(gt_area + int(np.count_nonzero(pred)) - overlap)
            self.results.append(
                dict(img_id=result['img_id'], failed=False, index=np.array(index, np.int64),
                     labels=labels[index], intersections=np.array(inter, np.int64),
                     unions=np.array(union, np.int64), without_mask=len(labels) - len(index)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Overall and per-class mIoU_I / mIoU_P; fills :attr:`per_instance`."""
        classes = self.dataset_meta.get('classes', ()) if self.dataset_meta else ()
        done = [r for r in results if not r['failed']]
        labels = np.concatenate([r['labels'] for r in done] or [np.zeros(0, np.int64)])
        inter = np.concatenate([r['intersections'] for r in done] or [np.zeros(0, np.int64)])
        union = np.concatenate([r['unions'] for r in done] or [np.zeros(0, np.int64)])
        metrics: Dict[str, float] = dict(
            iou_scores(inter, union), instances=len(union),
            without_mask=sum(r['without_mask'] for r in done), images=len(done),
            failed_images=len(results) - len(done))
        names = {int(label): classes[label] if label < len(classes) else str(label)
                 for label in np.unique(labels)}
        table = PrettyTable(field_names=['class', 'instances', 'mIoU_I', 'mIoU_P'])
        for label, name in names.items():
            scores = iou_scores(inter[labels == label], union[labels == label])
            metrics.update({f'{key}/{name}': value for key, value in scores.items()})
            table.add_row([name, int(np.sum(labels == label)), f'{scores["mIoU_I"]:.2f}',
                           f'{scores["mIoU_P"]:.2f}'])
        print_log(f'{self.title}:\n' + table.get_string(), logger='current')
        self.per_instance = [
            {'img_id': r['img_id'], 'index': int(i), 'label': int(label),
             'class': names[int(label)], 'intersection': int(a), 'union': int(b),
             'iou': a / b}
            for r in done
            for i, label, a, b in zip(r['index'], r['labels'], r['intersections'], r['unions'])
        ]
        return metrics
