"""Quality control of generated masks: measures, flags, and what the writer does with them."""
import json

import numpy as np
import pytest
from PIL import Image

from mmsamrs.generation import (FLAG_NAMES, Crop, QualityControl, SAMRSLabelWriter,
                                format_summary)
from mmsamrs.generation.quality import mask_box_iou, outside_fraction

EMPTY = Crop(np.zeros((0, 0), dtype=bool), 0, 0)


def rect(x0, y0, w, h) -> Crop:
    return Crop(np.ones((h, w), dtype=bool), x0, y0)


def test_mask_box_iou():
    assert mask_box_iou(rect(10, 20, 8, 4), [10, 20, 18, 24]) == 1.0
    assert mask_box_iou(rect(10, 20, 4, 4), [10, 20, 18, 24]) == 0.5  # half the box
    assert mask_box_iou(rect(14, 20, 8, 4), [10, 20, 18, 24]) == pytest.approx(16 / 48)
    assert mask_box_iou(rect(50, 50, 2, 2), [10, 20, 18, 24]) == 0.0
    assert mask_box_iou(EMPTY, [10, 20, 18, 24]) == 0.0
    sparse = Crop(np.array([[1, 0, 0], [0, 0, 1]], dtype=bool), 0, 0)  # box of the extent
    assert mask_box_iou(sparse, [0, 0, 3, 2]) == 1.0


def test_outside_fraction_counts_pixel_centres():
    mask = rect(0, 0, 4, 4)
    assert outside_fraction(mask, [0, 0, 4, 4]) == 0.0
    assert outside_fraction(mask, [0, 0, 2, 4]) == 0.5
    assert outside_fraction(mask, [0.5, 0, 4, 4]) == 0.0  # column 0's centre is on the edge
    assert outside_fraction(mask, [0.6, 0, 4, 4]) == 0.25
    assert outside_fraction(mask, [10, 10, 20, 20]) == 1.0
    assert outside_fraction(rect(5, 5, 2, 2), [-3, -3, 100, 100]) == 0.0
    assert outside_fraction(EMPTY, [0, 0, 4, 4]) == 0.0


def test_flags():
    control = QualityControl(min_score=0.6, min_box_iou=0.7, max_outside=0.2)
    crops = [rect(0, 0, 10, 10), rect(0, 0, 10, 10), rect(0, 0, 5, 10), rect(0, 0, 10, 20),
             EMPTY]
    hboxes = np.array([[0, 0, 10, 10]] * 5, np.float32)
    scores = np.array([0.9, 0.5, 0.9, 0.9, 0.9], np.float32)
    measures = control.measure(crops, hboxes, scores)
    np.testing.assert_allclose(measures.box_iou, [1, 1, 0.5, 0.5, 0])
    np.testing.assert_allclose(measures.outside, [0, 0, 0, 0.5, 0])
    assert [measures.flag_names(i) for i in range(5)] == [
        [], ['low_score'], ['low_box_iou'], ['low_box_iou', 'outside_box'], ['low_box_iou']]
    assert measures.flagged.tolist() == [False, True, True, True, True]
    none = control.measure([], np.zeros((0, 4)), np.zeros(0))
    assert none.flags.shape == (0, len(FLAG_NAMES))
    with pytest.raises(ValueError, match='min_score'):
        QualityControl(min_score=1.5)


def result(objects, shape=(30, 40)):
    """A generator result: (label, crop, score, H-Box) per object."""
    return {
        'img_id': 'img', 'img_path': '/data/img.png', 'ori_shape': shape, 'error': None,
        'labels': np.array([o[0] for o in objects], np.int64),
        'scores': np.array([o[2] for o in objects], np.float32),
        'hboxes': np.array([o[3] for o in objects], np.float32), 'rboxes': None,
        'mask_crops': [o[1].mask for o in objects],
        'mask_offsets': np.array([(o[1].x0, o[1].y0) for o in objects], np.int64),
    }


@pytest.mark.parametrize('drop', [False, True])
def test_writer_stores_flags_and_drops_flagged(tmp_path, drop):
    objects = [(0, rect(0, 0, 10, 10), 0.9, [0, 0, 10, 10]),     # good
               (1, rect(20, 0, 10, 10), 0.1, [20, 0, 30, 10]),   # low score
               (1, rect(0, 15, 20, 10), 0.9, [0, 15, 10, 25])]   # leaks out of its box
    writer = SAMRSLabelWriter(str(tmp_path), classes=('a', 'b'), palette=[[1, 1, 1]] * 2,
                              quality=QualityControl(drop_flagged=drop))
    writer.write(result(objects))
    summary = writer.finalize()
    anns = json.loads((tmp_path / 'instances.json').read_text())['annotations']
    assert [a['flags'] for a in anns] == [[], ['low_score'], ['outside_box']]
    assert [a['box_iou'] for a in anns] == [1.0, 1.0, 0.5]
    assert [a['outside'] for a in anns] == [0.0, 0.0, 0.5]
    assert [a['painted'] for a in anns] == [True, not drop, not drop]
    gray = np.array(Image.open(tmp_path / 'gray' / 'img.png'))
    assert (gray[0:10, 0:10] == 0).all()
    assert (gray[0:10, 20:30] == (255 if drop else 1)).all()
    assert (gray[15:25, 0:20] == (255 if drop else 1)).all()
    assert summary['instances']['flagged'] == 2
    assert summary['instances']['flags'] == dict(low_score=1, low_box_iou=0, outside_box=1)
    assert [c['flagged'] for c in summary['per_class']] == [0, 2]
    assert summary['quality'] == dict(min_score=0.5, min_box_iou=0.5, max_outside=0.25,
                                      drop_flagged=drop)
    text = format_summary(summary)
    assert 'quality: 2 flagged (1 low_score, 0 low_box_iou, 1 outside_box)' in text
    assert 'flagged' in text.splitlines()[3]


def test_writer_without_quality_control_is_unchanged(tmp_path):
    writer = SAMRSLabelWriter(str(tmp_path), classes=('a', ), palette=[[1, 1, 1]])
    writer.write(result([(0, rect(0, 15, 20, 10), 0.1, [0, 15, 10, 25])]))
    summary = writer.finalize()
    (ann, ) = json.loads((tmp_path / 'instances.json').read_text())['annotations']
    assert not {'box_iou', 'outside', 'flags'} & set(ann) and ann['painted']
    assert summary['quality'] is None and summary['instances']['flagged'] == 0
    assert 'quality' not in format_summary(summary)
