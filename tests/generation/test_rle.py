"""COCO RLE from mask crops equals pycocotools' encoding of the full mask."""
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmsamrs.generation import Crop, clip_crop, crop_run_counts, encode_crop


def full_mask(crop: Crop, shape) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    h, w = crop.mask.shape
    mask[crop.y0:crop.y0 + h, crop.x0:crop.x0 + w] = crop.mask
    return mask


def check_against_pycocotools(mask: np.ndarray, offset, shape) -> None:
    crop = clip_crop(mask, offset, shape)
    ref = mask_utils.encode(np.asfortranarray(full_mask(crop, shape)))
    ours = encode_crop(crop, shape)
    assert ours['size'] == list(ref['size'])
    assert ours['counts'] == ref['counts'].decode('ascii')
    assert crop.area == mask_utils.area(ref)
    assert crop.bbox() == mask_utils.toBbox(ref).tolist()


@pytest.mark.parametrize('seed', range(4))
def test_random_crops_match_pycocotools(seed):
    rng = np.random.default_rng(seed)
    for _ in range(500):
        shape = tuple(int(v) for v in rng.integers(1, 25, 2))
        h, w = rng.integers(0, 30, 2)
        offset = rng.integers(-6, 30, 2)  # includes crops sticking out of the image
        mask = rng.random((h, w)) < rng.choice([0.05, 0.5, 0.95, 1.0])
        check_against_pycocotools(mask, offset, shape)


@pytest.mark.parametrize('mask,offset,shape', [
    (np.zeros((0, 0), bool), (0, 0), (7, 5)),  # 0x0 crop
    (np.zeros((3, 4), bool), (1, 1), (7, 5)),  # all-false crop
    (np.ones((7, 5), bool), (0, 0), (7, 5)),  # full-image mask: one run, counts [0, 35]
    (np.ones((7, 2), bool), (1, 0), (7, 5)),  # full columns: runs join across columns
    (np.ones((3, 3), bool), (2, 4), (7, 5)),  # touches bottom and right edges
    (np.array([[0, 1], [1, 1], [0, 1]], bool), (3, 4), (7, 5)),  # bottom run joins next top
    (np.array([[1]], bool), (0, 0), (7, 5)),  # first pixel: counts start with 0
    (np.array([[1]], bool), (4, 6), (7, 5)),  # last pixel: no trailing zero run
    (np.ones((2, 2), bool), (8, 8), (7, 5)),  # entirely outside
    (np.ones((1, 1), bool), (0, 0), (1, 1)),  # 1x1 image
])
def test_edge_cases_match_pycocotools(mask, offset, shape):
    check_against_pycocotools(mask, offset, shape)


def test_counts_of_full_image_and_joined_columns():
    shape = (4, 3)
    assert crop_run_counts(clip_crop(np.ones(shape, bool), (0, 0), shape), shape).tolist() \
        == [0, 12]
    # bottom of column 0 and top of column 1 form one run of 3 pixels
    mask = np.array([[0, 1], [0, 0], [1, 0], [1, 0]], bool)
    assert crop_run_counts(clip_crop(mask, (0, 0), shape), shape).tolist() == [2, 3, 7]


def test_cost_follows_the_crop_not_the_image():
    """A crop in a 60000 x 60000 image (3.6e9 pixels) encodes without the full mask."""
    shape = (60000, 60000)
    mask = np.zeros((5, 4), bool)
    mask[1:4, 1:3] = True
    crop = clip_crop(mask, (59996, 59995), shape)
    rle = encode_crop(crop, shape)
    assert mask_utils.area(rle) == 6 == crop.area
    assert mask_utils.toBbox(rle).tolist() == crop.bbox() == [59997, 59996, 2, 3]


def test_image_too_large_for_coco_rle():
    with pytest.raises(ValueError, match='2\\*\\*32'):
        encode_crop(clip_crop(np.ones((1, 1), bool), (0, 0), (70000, 70000)), (70000, 70000))
