"""Semantic painting: overlap policies on constructed overlaps, 255, keep."""
import numpy as np
import pytest

from mmsamrs.generation import clip_crop, paint_labels, paint_order

SHAPE = (12, 12)
BIG = clip_crop(np.ones((10, 10), bool), (0, 0), SHAPE)  # 100 px at (0..9, 0..9)
SMALL = clip_crop(np.ones((4, 4), bool), (3, 3), SHAPE)  # 16 px inside BIG
OVERLAP = (slice(3, 7), slice(3, 7))


def paint(policy, crops, labels, scores, keep=None):
    areas = np.array([c.area for c in crops])
    order = paint_order(policy, areas, np.asarray(scores, np.float32), keep)
    return paint_labels(SHAPE, np.array(labels), crops, order)


def check_regions(label_map, overlap_label):
    big_only = np.zeros(SHAPE, bool)
    big_only[:10, :10] = True
    big_only[OVERLAP] = False
    assert (label_map[OVERLAP] == overlap_label).all()
    assert (label_map[big_only] == 1).all()
    assert (label_map[10:, :] == 255).all() and (label_map[:, 10:] == 255).all()


@pytest.mark.parametrize('small_first', [True, False])
def test_small_on_top_regardless_of_order(small_first):
    crops, labels = ([SMALL, BIG], [2, 1]) if small_first else ([BIG, SMALL], [1, 2])
    check_regions(paint('small_on_top', crops, labels, [0.9, 0.9]), overlap_label=2)


def test_last_follows_annotation_order():
    check_regions(paint('last', [BIG, SMALL], [1, 2], [0.9, 0.9]), overlap_label=2)
    check_regions(paint('last', [SMALL, BIG], [2, 1], [0.9, 0.9]), overlap_label=1)


@pytest.mark.parametrize('small_first', [True, False])
def test_score_puts_higher_score_on_top(small_first):
    crops, labels = ([SMALL, BIG], [2, 1]) if small_first else ([BIG, SMALL], [1, 2])
    big_wins = [0.5, 0.9] if small_first else [0.9, 0.5]
    small_wins = big_wins[::-1]
    check_regions(paint('score', crops, labels, big_wins), overlap_label=1)
    check_regions(paint('score', crops, labels, small_wins), overlap_label=2)


def test_ties_keep_annotation_order():
    a = clip_crop(np.ones((4, 4), bool), (0, 0), SHAPE)
    b = clip_crop(np.ones((4, 4), bool), (2, 2), SHAPE)  # same area, overlaps a
    for policy in ('small_on_top', 'score'):
        assert paint(policy, [a, b], [3, 4], [0.7, 0.7])[3, 3] == 4
        assert paint(policy, [b, a], [4, 3], [0.7, 0.7])[3, 3] == 3
    assert paint_order('small_on_top', np.array([5, 9, 5, 9]), np.zeros(4)).tolist() \
        == [1, 3, 0, 2]


def test_keep_leaves_instances_unpainted():
    label_map = paint('small_on_top', [BIG, SMALL], [1, 2], [0.9, 0.9],
                      keep=np.array([True, False]))
    assert (label_map[:10, :10] == 1).all()
    label_map = paint('last', [BIG, SMALL], [1, 2], [0.9, 0.9], keep=np.array([False, True]))
    assert (label_map[OVERLAP] == 2).all() and (label_map == 255).sum() == 144 - 16


def test_nothing_painted_is_255_and_masks_are_not_windows():
    assert (paint('last', [], [], []) == 255).all()
    ring = np.ones((5, 5), bool)
    ring[1:4, 1:4] = False
    label_map = paint('last', [clip_crop(ring, (9, 9), SHAPE)], [0], [1.0])  # clipped to 3x3
    assert label_map.dtype == np.uint8
    assert label_map[9, 9] == 0 and label_map[10, 10] == 255 and label_map[11, 11] == 255
    assert (label_map[:9, :] == 255).all() and (label_map == 0).sum() == 5


def test_invalid_policy_and_labels():
    with pytest.raises(ValueError, match='overlap_policy'):
        paint_order('largest', np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match='labels'):
        paint_labels(SHAPE, np.array([255]), [BIG], np.array([0]))

