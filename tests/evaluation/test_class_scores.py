"""ClassScoreMetric on hand-computed confusion matrices (Table 3 and Table 4 rows)."""
import math

import numpy as np
import pytest
import torch

from mmsamrs.evaluation.metrics import class_scores
from mmsamrs.evaluation.metrics.class_scores import ClassScoreMetric
from mmsamrs.registry import METRICS

CLASSES = ('a', 'b', 'c', 'never')  # 'never' is neither labelled nor predicted
#: confusion[label][prediction] of classes a, b, c; plus 20 pixels labelled 255 (ignored)
CONFUSION = [[50, 10, 0], [5, 30, 5], [0, 10, 40]]
# by hand: a: TP 50 FN 10 FP 5 -> F1 100/115, IoU 50/65; b: TP 30 FN 10 FP 20 -> F1 60/90,
# IoU 30/60; c: TP 40 FN 10 FP 5 -> F1 80/95, IoU 40/55; OA 120/150
F1 = dict(a=100 / 115, b=60 / 90, c=80 / 95)
IOU = dict(a=50 / 65, b=30 / 60, c=40 / 55)


def samples():
    """Two data samples holding the confusion pairs (and the ignored pixels) between them."""
    pairs = [(gt, pred) for gt, row in enumerate(CONFUSION)
             for pred, count in enumerate(row) for _ in range(count)]
    pairs += [(255, i % 3) for i in range(20)]
    label, pred = np.array(pairs).T
    order = np.random.default_rng(0).permutation(len(pairs))  # the split must not matter
    return [dict(pred_sem_seg=dict(data=torch.from_numpy(pred[idx]).view(1, 1, -1)),
                 gt_sem_seg=dict(data=torch.from_numpy(label[idx]).view(1, 1, -1)))
            for idx in np.array_split(order, 2)]


def evaluate(score: str, monkeypatch) -> tuple:
    logged = []
    monkeypatch.setattr(class_scores, 'print_log', lambda msg, logger: logged.append(msg))
    metric = METRICS.build(dict(type='ClassScoreMetric', score=score))
    metric.dataset_meta = dict(classes=CLASSES)
    for sample in samples():
        metric.process({}, [sample])
    return metric.evaluate(2), logged[0]


def test_potsdam_row_f1_oa_mf1(monkeypatch):
    row, table = evaluate('F1', monkeypatch)
    assert list(row) == ['F1/a', 'F1/b', 'F1/c', 'F1/never', 'OA', 'mF1']
    for name, value in F1.items():
        assert row[f'F1/{name}'] == pytest.approx(round(100 * value, 2))
    assert math.isnan(row['F1/never'])
    assert row['OA'] == pytest.approx(80.0)
    assert row['mF1'] == pytest.approx(round(100 * np.mean(list(F1.values())), 2))  # 79.28
    header = table.splitlines()[2]
    assert [c.strip() for c in header.split('|')[1:-1]] == ['a', 'b', 'c', 'never', 'OA',
                                                             'mF1']
    assert '79.28' in table


def test_isaid_row_iou_miou(monkeypatch):
    row, _ = evaluate('IoU', monkeypatch)
    assert list(row) == ['IoU/a', 'IoU/b', 'IoU/c', 'IoU/never', 'mIoU']
    for name, value in IOU.items():
        assert row[f'IoU/{name}'] == pytest.approx(round(100 * value, 2))
    assert row['mIoU'] == pytest.approx(round(100 * np.mean(list(IOU.values())), 2))  # 66.55


def test_unknown_score():
    with pytest.raises(ValueError, match='score must be one of'):
        ClassScoreMetric(score='Dice')
