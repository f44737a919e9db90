"""MultiSetIoUMetric on hand-computed predictions of two sets."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmsamrs.evaluation import MultiSetIoUMetric
from mmsamrs.registry import METRICS

SETS = dict(SOTA=3, SIOR=2, FAST=4)


def sample(name: str, gt, pred) -> SegDataSample:
    data = SegDataSample(metainfo=dict(dataset_name=name))
    data.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    data.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    return data


SAMPLES = [
    sample('SOTA', [[0, 0], [1, 2]], [[0, 1], [1, 2]]),
    sample('SIOR', [[0, 1], [1, 1]], [[0, 1], [0, 1]]),
    sample('SOTA', [[2, 255], [2, 0]], [[2, 0], [1, 0]]),
]


def evaluate(metric_cfg: dict, tmp_path) -> dict:
    init_default_scope('mmsamrs')
    MMLogger.get_instance(tmp_path.name, log_file=str(tmp_path / 'log.txt'))
    evaluator = Evaluator(METRICS.build(metric_cfg))
    evaluator.process(data_samples=SAMPLES)
    return evaluator.evaluate(len(SAMPLES))


def test_per_set_scores_and_mean_match_hand_computation(tmp_path):
    metrics = evaluate(dict(type='MultiSetIoUMetric', num_classes=SETS,
                            class_names=dict(SIOR=('airplane', 'airport'))), tmp_path)
    # SOTA, both samples, 255 ignored: IoU = 2/3, 1/3, 2/3; Acc = 2/3, 1, 2/3; aAcc = 5/7
    # SIOR: IoU = 1/2, 2/3; Acc = 1, 2/3; aAcc = 3/4; FAST has no sample: left out
    assert metrics == pytest.approx({
        'SOTA/aAcc': 71.43, 'SOTA/mIoU': 55.56, 'SOTA/mAcc': 77.78,
        'SIOR/aAcc': 75.0, 'SIOR/mIoU': 58.33, 'SIOR/mAcc': 83.33,
        'aAcc_mean': 73.215, 'mIoU_mean': 56.945, 'mAcc_mean': 80.555}, abs=0.006)
    log = (tmp_path / 'log.txt').read_text()
    table = log[log.index('per set results'):].splitlines()
    cells = [[c.strip() for c in line.split('|')[1:-1]] for line in table if '|' in line]
    assert cells[0] == ['', 'SOTA', 'SIOR', 'Average']
    assert cells[2] == ['mIoU', '55.56', '58.33', str(metrics['mIoU_mean'])]
    assert 'airport' in log and 'FAST: no validation samples' in log


def test_more_metrics_get_their_own_mean(tmp_path):
    metrics = evaluate(dict(type='MultiSetIoUMetric', num_classes=SETS,
                            iou_metrics=['mIoU', 'mDice']), tmp_path)
    # SIOR Dice = 2I / (P + G) = 2/3, 4/5
    assert metrics['SIOR/mDice'] == pytest.approx(73.33, abs=0.006)
    assert metrics['mDice_mean'] == pytest.approx(
        round((metrics['SOTA/mDice'] + metrics['SIOR/mDice']) / 2, 2))


def test_unknown_set_and_bad_class_names_are_refused():
    metric = MultiSetIoUMetric(num_classes=dict(SOTA=3))
    with pytest.raises(KeyError, match="'SIOR'"):
        metric.process({}, [SAMPLES[1].to_dict()])
    with pytest.raises(ValueError, match='2 class names for 3 classes'):
        MultiSetIoUMetric(num_classes=dict(SOTA=3), class_names=dict(SOTA=('a', 'b')))
    with pytest.raises(KeyError, match='FAST'):
        MultiSetIoUMetric(num_classes=dict(SOTA=3), class_names=dict(FAST=('a', )))
