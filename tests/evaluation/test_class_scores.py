"""ClassScoreMetric on a hand-computed confusion matrix (Table 3 and Table 4 rows).

The matrix has a class labelled but never predicted (``missed``), one predicted but never
labelled (``ghost``), one labelled and predicted but never correctly (``wrong``) and one
absent from both (``never``): only ``never`` may be NaN and left out of the means.
"""
import math

import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric

from mmsamrs.evaluation.metrics import class_scores
from mmsamrs.evaluation.metrics.class_scores import ClassScoreMetric
from mmsamrs.evaluation.metrics.seg_iou import class_fscore, SegIoUMetric
from mmsamrs.registry import METRICS

CLASSES = ('a', 'b', 'c', 'missed', 'ghost', 'wrong', 'never')
#: confusion[label][prediction] of the first six classes; plus 20 pixels labelled 255
CONFUSION = [
    [50, 10, 0, 0, 0, 0],  # a
    [5, 26, 5, 0, 0, 4],  # b
    [0, 10, 40, 0, 5, 0],  # c
    [8, 2, 0, 0, 0, 0],  # missed: 10 labelled pixels, never predicted
    [0, 0, 0, 0, 0, 0],  # ghost: 5 predicted pixels (from c), never labelled
    [6, 0, 0, 0, 0, 0],  # wrong: 6 labelled, 4 predicted (from b), none right
]
# by hand, labelled L / predicted P / correct TP pixels:
# a 60/69/50, b 40/48/26, c 55/45/40, missed 10/0/0, ghost 0/5/0, wrong 6/4/0; OA 116/171
# F1 = 2 TP / (L + P), IoU = TP / (L + P - TP)
F1 = dict(a=100 / 129, b=52 / 88, c=80 / 100, missed=0, ghost=0, wrong=0)
IOU = dict(a=50 / 79, b=26 / 62, c=40 / 60, missed=0, ghost=0, wrong=0)


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


def evaluate(score: str, monkeypatch, **kwargs) -> tuple:
    logged = []
    monkeypatch.setattr(class_scores, 'print_log', lambda msg, logger: logged.append(msg))
    metric = METRICS.build(dict(type='ClassScoreMetric', score=score, **kwargs))
    metric.dataset_meta = dict(classes=CLASSES)
    for sample in samples():
        metric.process({}, [sample])
    return metric.evaluate(2), logged[0]


def test_potsdam_row_counts_a_missed_class_as_zero(monkeypatch):
    row, table = evaluate('F1', monkeypatch)
    assert list(row) == [f'F1/{c}' for c in CLASSES] + ['OA', 'mF1']
    for name, value in F1.items():
        assert row[f'F1/{name}'] == pytest.approx(round(100 * value, 2))
    assert math.isnan(row['F1/never'])
    assert row['OA'] == pytest.approx(round(100 * 116 / 171, 2))
    # the mean over the six classes present in labels or predictions, zeros included
    assert row['mF1'] == pytest.approx(round(100 * np.mean(list(F1.values())), 2))  # 36.1
    header = table.splitlines()[2]
    assert [c.strip() for c in header.split('|')[1:-1]] == [*CLASSES, 'OA', 'mF1']
    assert '36.1' in table.splitlines()[4]


def test_isaid_row_counts_a_missed_class_as_zero(monkeypatch):
    row, _ = evaluate('IoU', monkeypatch)
    assert list(row) == [f'IoU/{c}' for c in CLASSES] + ['mIoU']
    for name, value in IOU.items():
        assert row[f'IoU/{name}'] == pytest.approx(round(100 * value, 2))
    assert math.isnan(row['IoU/never'])
    assert row['mIoU'] == pytest.approx(round(100 * np.mean(list(IOU.values())), 2))  # 28.65


def test_nan_to_num_replaces_only_the_absent_class(monkeypatch):
    row, _ = evaluate('F1', monkeypatch, nan_to_num=-1)
    assert row['F1/never'] == -100 and row['F1/missed'] == 0
    assert row['mF1'] == pytest.approx(round(100 * (sum(F1.values()) - 1) / 7, 2))


def test_fscore_rule_and_mmseg_difference():
    # classes: right, missed (labelled only), ghost (predicted only), wrong, absent
    intersect, pred, label = (np.array(v, float) for v in (
        [3, 0, 0, 0, 0], [4, 0, 2, 1, 0], [5, 2, 0, 1, 0]))
    f1 = class_fscore(intersect, pred, label)
    np.testing.assert_allclose(f1[:4], [6 / 9, 0, 0, 0])
    assert math.isnan(f1[4])
    f2 = class_fscore(intersect, pred, label, beta=2)  # 5 TP / (4 L + P)
    assert f2[0] == pytest.approx(15 / 24) and f2[1] == 0
    areas = [torch.tensor(a) for a in (intersect, label + pred - intersect, pred, label)]
    theirs = IoUMetric.total_area_to_metrics(*areas, ['mFscore'])['Fscore']
    assert np.isnan(theirs[1:]).all()  # mmseg: NaN for each of the four, not only absent
    ours = SegIoUMetric.total_area_to_metrics(*areas, ['mFscore', 'mIoU'])
    np.testing.assert_allclose(ours['Fscore'], f1)
    np.testing.assert_allclose(ours['IoU'][:4], [3 / 6, 0, 0, 0])
    assert math.isnan(ours['IoU'][4])


def test_unknown_score():
    with pytest.raises(ValueError, match='score must be one of'):
        ClassScoreMetric(score='Dice')
