"""MultiSetIoUMetric on hand-computed predictions of several sets."""
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from mmsamrs.datasets.class_names import SOTA_CLASSES
from mmsamrs.evaluation import MultiSetIoUMetric
from mmsamrs.registry import METRICS

SETS = dict(A=3, B=2, C=4, D=2)
NAMES = dict(A=('car', 'ship', 'tree'), B=('airplane', 'airport'),
             C=('wharf', 'xroad', 'yard', 'zoo'), D=('d0', 'd1'))


def sample(name: str, gt, pred) -> SegDataSample:
    data = SegDataSample(metainfo=dict(dataset_name=name))
    data.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    data.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    return data


SAMPLES = [
    sample('A', [[0, 0], [1, 2]], [[0, 1], [1, 2]]),
    sample('B', [[0, 1], [1, 1]], [[0, 1], [0, 1]]),
    sample('A', [[2, 255], [2, 0]], [[2, 0], [1, 0]]),
    # xroad (1) labelled, never predicted; yard (2) neither labelled nor predicted
    sample('C', [[0, 1], [3, 3]], [[0, 0], [0, 3]]),
]


def evaluate(metric_cfg: dict, tmp_path) -> dict:
    init_default_scope('mmsamrs')
    MMLogger.get_instance(tmp_path.name, log_file=str(tmp_path / 'log.txt'))
    evaluator = Evaluator(METRICS.build(metric_cfg))
    evaluator.process(data_samples=SAMPLES)
    return evaluator.evaluate(len(SAMPLES))


def class_rows(log: str, set_name: str) -> dict:
    """Class name -> cells of the per-class table logged for ``set_name``."""
    lines = log[log.index(f' - {set_name}:\n'):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.replace(' ', '').startswith('|Class|'))
    rows = {}
    for line in lines[start + 2:]:  # after the header and its rule
        if not line.startswith('|'):
            break
        name, *cells = (c.strip() for c in line.split('|')[1:-1])
        rows[name] = cells
    return rows


def test_per_set_scores_and_mean_match_hand_computation(tmp_path):
    metrics = evaluate(dict(type='MultiSetIoUMetric', num_classes=SETS, class_names=NAMES),
                       tmp_path)
    # A, both samples, 255 ignored: IoU = 2/3, 1/3, 2/3; Acc = 2/3, 1, 2/3; aAcc = 5/7
    # B: IoU = 1/2, 2/3; Acc = 1, 2/3; aAcc = 3/4
    # C: wharf I 1 U 3; xroad labelled, never predicted: IoU 0 and Acc 0, in the means;
    #    yard absent from labels and predictions: NaN, left out; zoo I 1 U 2
    #    -> mIoU = (1/3 + 0 + 1/2) / 3, mAcc = (1 + 0 + 1/2) / 3, aAcc = 2/4
    # D has no sample: left out of the means
    assert metrics == pytest.approx({
        'A/aAcc': 71.43, 'A/mIoU': 55.56, 'A/mAcc': 77.78,
        'B/aAcc': 75.0, 'B/mIoU': 58.33, 'B/mAcc': 83.33,
        'C/aAcc': 50.0, 'C/mIoU': 27.78, 'C/mAcc': 50.0,
        'aAcc_mean': 65.48, 'mIoU_mean': 47.22, 'mAcc_mean': 70.37}, abs=0.006)
    log = (tmp_path / 'log.txt').read_text()
    table = log[log.index('per set results'):].splitlines()
    cells = [[c.strip() for c in line.split('|')[1:-1]] for line in table if '|' in line]
    assert cells[0] == ['', 'A', 'B', 'C', 'Average']
    assert cells[2] == ['mIoU', '55.56', '58.33', '27.78', str(metrics['mIoU_mean'])]
    assert 'D: no validation samples' in log
    rows = class_rows(log, 'C')  # per-class tables name the classes
    assert list(rows) == list(NAMES['C'])
    assert rows['xroad'][0] == '0.0' and rows['yard'][0] == 'nan'
    assert list(class_rows(log, 'B')) == ['airplane', 'airport']


def test_fscore_counts_a_missed_class_as_zero(tmp_path):
    metrics = evaluate(dict(type='MultiSetIoUMetric', num_classes=SETS, class_names=NAMES,
                            iou_metrics=['mIoU', 'mDice', 'mFscore']), tmp_path)
    # B Dice = 2I / (P + G) = 2/3, 4/5
    assert metrics['B/mDice'] == pytest.approx(73.33, abs=0.006)
    assert metrics['mDice_mean'] == pytest.approx(
        round((metrics['A/mDice'] + metrics['B/mDice'] + metrics['C/mDice']) / 3, 2))
    # C F1 = 2 TP / (L + P): wharf 2/4, xroad 0 (mmseg: NaN), zoo 2/3; yard NaN
    assert metrics['C/mFscore'] == pytest.approx(100 * (1 / 2 + 0 + 2 / 3) / 3, abs=0.006)


def test_class_names_default_for_samrs_sets_and_are_required_otherwise():
    metric = MultiSetIoUMetric(num_classes=dict(SOTA=18, A=3), class_names=dict(A=NAMES['A']))
    assert metric._set_metrics['SOTA'].dataset_meta['classes'] == SOTA_CLASSES
    assert metric._set_metrics['A'].dataset_meta['classes'] == NAMES['A']
    with pytest.raises(ValueError, match=r"set 'A': no class names.*class_names=dict\(A="):
        MultiSetIoUMetric(num_classes=dict(A=3))


def test_unknown_set_and_bad_class_names_are_refused():
    metric = MultiSetIoUMetric(num_classes=dict(A=3), class_names=dict(A=NAMES['A']))
    with pytest.raises(KeyError, match="'B'"):
        metric.process({}, [SAMPLES[1].to_dict()])
    with pytest.raises(ValueError, match='2 class names for 3 classes'):
        MultiSetIoUMetric(num_classes=dict(A=3), class_names=dict(A=('a', 'b')))
    with pytest.raises(ValueError, match='18 class names for 3 classes'):
        MultiSetIoUMetric(num_classes=dict(SOTA=3))
    with pytest.raises(KeyError, match='FAST'):
        MultiSetIoUMetric(num_classes=dict(A=3), class_names=dict(A=NAMES['A'], FAST=('a', )))


def test_sets_and_class_names_from_the_dataset_and_prediction_files(tmp_path):
    """Without num_classes the metric scores the sets of the dataset's metainfo (the
    SAMRSMultiSetDataset's), with their class names; output_dir gets each prediction."""
    init_default_scope('mmsamrs')
    MMLogger.get_instance(tmp_path.name, log_file=str(tmp_path / 'log.txt'))
    sets = {name: dict(classes=NAMES[name], palette=[[0, 0, 0]] * SETS[name])
            for name in ('A', 'B')}
    evaluator = Evaluator(METRICS.build(dict(type='MultiSetIoUMetric')))
    evaluator.dataset_meta = dict(sets=sets)
    samples = SAMPLES[:3]
    for i, data in enumerate(samples):
        data.set_metainfo(dict(img_path=f'/x/img{i}.png'))
    evaluator.process(data_samples=samples)
    metrics = evaluator.evaluate(len(samples))
    assert metrics['A/mIoU'] == pytest.approx(55.56, abs=0.006)
    assert set(metrics) == {'A/aAcc', 'A/mIoU', 'A/mAcc', 'B/aAcc', 'B/mIoU', 'B/mAcc',
                            'aAcc_mean', 'mIoU_mean', 'mAcc_mean'}
    assert set(class_rows((tmp_path / 'log.txt').read_text(), 'A')) == set(NAMES['A'])

    writer = Evaluator(METRICS.build(dict(type='MultiSetIoUMetric', format_only=True,
                                          output_dir=str(tmp_path / 'preds'))))
    writer.dataset_meta = dict(sets=sets)
    writer.process(data_samples=samples)
    assert writer.evaluate(len(samples)) == {}
    for i, data in enumerate(samples):
        written = np.array(Image.open(tmp_path / 'preds' / f'img{i}.png'))
        np.testing.assert_array_equal(written, data.pred_sem_seg.data[0].numpy())
    with pytest.raises(ValueError, match='knows no set'):
        METRICS.build(dict(type='MultiSetIoUMetric')).process({}, [])
