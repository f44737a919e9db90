"""InstanceIoUMetric on constructed masks with hand-computed intersections and unions."""
import math

import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.structures import BaseDataElement

from mmsamrs.evaluation import InstanceIoUMetric
from mmsamrs.evaluation.metrics import instance_iou
from mmsamrs.evaluation.metrics.instance_iou import crop_intersection
from mmsamrs.registry import METRICS

EMPTY = np.zeros((0, 0), dtype=bool)


def square(size: int) -> np.ndarray:
    return np.ones((size, size), dtype=bool)


def pair(img_id, labels, gt, pred, error=None):
    """A packed sample with ground truth and a SAMGenerator-like result.

    ``gt`` and ``pred`` are lists of ``(crop, (x0, y0))``."""
    sample = BaseDataElement(metainfo=dict(img_id=img_id))
    sample.gt_mask_crops = [c for c, _ in gt]
    sample.gt_mask_offsets = np.array([o for _, o in gt], np.int64).reshape(-1, 2)
    result = dict(img_id=img_id, img_path=f'/data/{img_id}.png', error=error,
                  labels=np.array(labels, np.int64), mask_crops=[c for c, _ in pred],
                  mask_offsets=np.array([o for _, o in pred], np.int64).reshape(-1, 2))
    return sample, result


def evaluate(metric, pairs):
    metric.process(dict(data_samples=[s for s, _ in pairs]), [r for _, r in pairs])
    return metric.evaluate(len(pairs))


def test_crop_intersection():
    assert crop_intersection(square(4), (0, 0), square(4), (2, 1)) == 2 * 3
    assert crop_intersection(square(4), (0, 0), square(2), (4, 0)) == 0  # touching
    assert crop_intersection(square(3), (5, 5), EMPTY, (0, 0)) == 0
    ring = square(3)
    ring[1, 1] = False
    assert crop_intersection(ring, (0, 0), square(3), (0, 0)) == 8


def test_hand_computed_scores():
    metric = InstanceIoUMetric()
    metric.dataset_meta = dict(classes=('boat', 'car'))
    pairs = [
        # boat: 16 px GT, 16 px prediction shifted by 2 -> I=8, U=24
        # car: 4 px GT, empty prediction -> I=0, U=4
        # boat without ground truth: left out, counted
        pair('a', [0, 1, 0], gt=[(square(4), (0, 0)), (square(2), (10, 10)), (EMPTY, (0, 0))],
             pred=[(square(4), (2, 0)), (EMPTY, (0, 0)), (square(3), (1, 1))]),
        # car: 9 px GT, the same prediction -> I=9, U=9
        pair('b', [1], gt=[(square(3), (5, 5))], pred=[(square(3), (5, 5))]),
        pair('c', [], gt=[], pred=[], error='cannot read image /data/c.png'),
    ]
    metrics = evaluate(metric, pairs)
    assert metrics['mIoU_I'] == pytest.approx(100 * (8 / 24 + 0 + 1) / 3)
    assert metrics['mIoU_P'] == pytest.approx(100 * (8 + 0 + 9) / (24 + 4 + 9))
    assert metrics['mIoU_I/boat'] == metrics['mIoU_P/boat'] == pytest.approx(100 / 3)
    assert metrics['mIoU_I/car'] == pytest.approx(50)
    assert metrics['mIoU_P/car'] == pytest.approx(100 * 9 / 13)
    assert (metrics['instances'], metrics['without_mask'], metrics['images'],
            metrics['failed_images']) == (3, 1, 2, 1)
    assert [(r['img_id'], r['index'], r['class'], r['intersection'], r['union'])
            for r in metric.per_instance] == [('a', 0, 'boat', 8, 24), ('a', 1, 'car', 0, 4),
                                             ('b', 0, 'car', 9, 9)]
    assert metric.per_instance[0]['iou'] == pytest.approx(1 / 3)


def test_missed_class_scores_zero_and_table_names_classes(monkeypatch):
    logged = []
    monkeypatch.setattr(instance_iou, 'print_log', lambda msg, logger: logged.append(msg))
    metric = InstanceIoUMetric()
    metric.dataset_meta = dict(classes=('boat', 'car', 'plane'))
    # boat: I=4, U=4; car: its only instance has an empty prediction, I=0, U=9; no plane
    metrics = evaluate(metric, [pair('a', [0, 1], gt=[(square(2), (0, 0)), (square(3), (5, 5))],
                                     pred=[(square(2), (0, 0)), (EMPTY, (0, 0))])])
    assert metrics['mIoU_I/car'] == metrics['mIoU_P/car'] == 0
    assert metrics['mIoU_I'] == pytest.approx(50) and metrics['mIoU_P'] == pytest.approx(
        100 * 4 / 13)
    assert 'mIoU_I/plane' not in metrics  # no instance: no score, nothing averaged
    rows = [[c.strip() for c in line.split('|')[1:-1]] for line in logged[0].splitlines()
            if line.startswith('|')]
    assert rows == [['class', 'instances', 'mIoU_I', 'mIoU_P'], ['boat', '1', '100.00', '100.00'],
                    ['car', '1', '0.00', '0.00']]


def test_nothing_to_evaluate_gives_nan():
    metric = InstanceIoUMetric()
    metric.dataset_meta = dict(classes=('boat', ))
    metrics = evaluate(metric, [pair('a', [0], gt=[(EMPTY, (0, 0))],
                                     pred=[(square(2), (0, 0))])])
    assert math.isnan(metrics['mIoU_I']) and math.isnan(metrics['mIoU_P'])
    assert metrics['instances'] == 0 and metrics['without_mask'] == 1
    assert metric.per_instance == []


def test_needs_ground_truth_and_matching_counts():
    metric = InstanceIoUMetric()
    sample, result = pair('a', [0], gt=[(square(2), (0, 0))], pred=[(square(2), (0, 0))])
    with pytest.raises(KeyError, match='LoadInstanceMasks'):
        metric.process(dict(data_samples=[BaseDataElement()]), [result])
    result['labels'] = np.array([0, 0])
    with pytest.raises(ValueError, match='1 ground-truth masks, 1 predicted masks and 2 labels'):
        metric.process(dict(data_samples=[sample]), [result])


def test_built_by_an_evaluator_from_config():
    evaluator = Evaluator(METRICS.build(dict(type='InstanceIoUMetric', prefix='hrsc')))
    evaluator.dataset_meta = dict(classes=('ship', ))
    sample, result = pair('a', [0], gt=[(square(2), (0, 0))], pred=[(square(2), (1, 0))])
    evaluator.process([result], dict(data_samples=[sample]))
    metrics = evaluator.evaluate(1)
    assert metrics['hrsc/mIoU_I'] == pytest.approx(100 / 3)
    assert metrics['hrsc/mIoU_P/ship'] == pytest.approx(100 / 3)
