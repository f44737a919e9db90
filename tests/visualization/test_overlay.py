"""Overlay drawing colours exactly the right pixels."""
import numpy as np
import pytest
from mmengine.structures import PixelData
from mmseg.visualization import SegLocalVisualizer
from pycocotools import mask as mask_utils

from mmsamrs.visualization import (annotation_mask, blend_labels, colour_table, draw_outlines,
                                   mask_outline, outline_thickness, present_labels)

PALETTE = [[255, 0, 0], [0, 0, 255]]


def test_blend_labels_blends_labelled_pixels_only():
    image = np.array([[[100, 50, 200], [10, 20, 30], [0, 255, 9]],
                      [[7, 7, 7], [1, 2, 3], [250, 250, 250]]], np.uint8)
    label = np.array([[0, 255, 1], [2, 0, 255]], np.uint8)  # 2 has no colour: no class
    out = blend_labels(image, label, PALETTE, alpha=0.5)
    expected = image.copy()
    expected[0, 0] = [177, 25, 100]  # (100 + 255) / 2 = 177.5, truncated; 50 / 2; 200 / 2
    expected[0, 2] = [0, 127, 132]  # (9 + 255) / 2
    expected[1, 1] = [128, 1, 1]  # (1 + 255) / 2, 2 / 2, 3 / 2
    np.testing.assert_array_equal(out, expected)
    assert out is not image and image[0, 0].tolist() == [100, 50, 200]
    np.testing.assert_array_equal(blend_labels(image, label, PALETTE, alpha=0.0), image)
    with pytest.raises(ValueError, match='label size'):
        blend_labels(image, label[:1], PALETTE)


def test_blend_matches_mmseg_on_labelled_pixels_and_keeps_the_rest():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    label = rng.choice(np.array([0, 1, 255], np.uint8), (6, 8))
    mmseg = SegLocalVisualizer(name='mmseg_reference', alpha=0.3)
    reference = mmseg._draw_sem_seg(image, PixelData(data=label[None]), ['a', 'b'], PALETTE,
                                    with_labels=False)
    ours = blend_labels(image, label, PALETTE, alpha=0.3)
    labelled = label != 255
    np.testing.assert_array_equal(ours[labelled], reference[labelled])
    np.testing.assert_array_equal(ours[~labelled], image[~labelled])
    assert (reference[~labelled] < image[~labelled]).any()  # mmseg darkens them


def test_colour_table():
    table = colour_table(PALETTE)
    assert table.shape == (256, 3) and table[1].tolist() == [0, 0, 255]
    assert not table[2:].any()
    with pytest.raises(ValueError, match='at most 255'):
        colour_table([[0, 0, 0]] * 256)


def test_mask_outline_rings():
    mask = np.zeros((7, 7), bool)
    mask[1:6, 1:6] = True
    ring = mask.copy()
    ring[2:5, 2:5] = False
    np.testing.assert_array_equal(mask_outline(mask), ring)  # 16 border pixels
    two = mask.copy()
    two[3, 3] = False
    np.testing.assert_array_equal(mask_outline(mask, thickness=2), two)
    corner = np.zeros((5, 5), bool)
    corner[:3, :3] = True  # touching the image edge: the edge is outline too
    expected = corner.copy()
    expected[1, 1] = False
    np.testing.assert_array_equal(mask_outline(corner), expected)
    assert not mask_outline(np.zeros((4, 4), bool)).any()


def test_draw_outlines_colours_outline_pixels_only():
    image = np.full((7, 7, 3), 40, np.uint8)
    mask = np.zeros((7, 7), bool)
    mask[1:6, 1:6] = True
    out = draw_outlines(image, [(mask, (1, 2, 3))])
    outline = mask_outline(mask)
    assert (out[outline] == [1, 2, 3]).all() and (out[~outline] == 40).all()
    assert (image == 40).all()


def test_annotation_mask_formats():
    mask = np.zeros((4, 5), np.uint8)
    mask[1:3, 0:4] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    compressed = {'segmentation': {'size': [4, 5], 'counts': rle['counts'].decode()}}
    uncompressed = {'segmentation': {'size': [4, 5], 'counts': [1, 2, 2, 2, 2, 2, 2, 2, 5]}}
    polygon = {'segmentation': [[0, 1, 4, 1, 4, 3, 0, 3]]}
    for ann in (compressed, uncompressed, polygon):
        np.testing.assert_array_equal(annotation_mask(ann, 4, 5), mask.astype(bool))
    with pytest.raises(ValueError, match='in an image of'):
        annotation_mask(compressed, 5, 5)


def test_small_helpers():
    assert outline_thickness((20, 30)) == 1 and outline_thickness((1024, 1024)) == 3
    label = np.array([[0, 255], [3, 3]], np.uint8)
    assert present_labels(label, 2) == [0] and present_labels(label, 4) == [0, 3]
