"""Shared fixtures of the SAM model tests: a tiny random SAM and packed samples."""
from types import SimpleNamespace
from typing import Dict, Sequence, Tuple

import numpy as np
import pytest
import torch

from mmsamrs.datasets.transforms import PackSAMInputs, SAMPrompts
from mmsamrs.models.sam import SAMGenerator
from mmsamrs.testing import TINY_SAM_ARCH as TINY_ARCH

#: Boxes (original frame) of the test images; some touch the image borders.
BOXES = [[10, 20, 100, 120], [50, 60, 290, 250], [0, 0, 40, 40], [200, 100, 300, 200],
         [150, 5, 299, 239]]


def make_sample(shape: Tuple[int, int], prompts='H-Box', boxes: Sequence = BOXES,
                seed: int = 0, frame: str = 'longest_side', **extra) -> Dict:
    """A packed generation sample: random image, instances on ``boxes``, SAM prompts in
    ``frame``."""
    rng = np.random.default_rng(seed)
    height, width = shape
    instances = [
        dict(bbox=list(map(float, box)), bbox_label=i % 3,
             rbox=[(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0],
                   box[3] - box[1], 0.]) for i, box in enumerate(boxes)
    ]
    state = dict(img=rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
                 img_shape=shape, ori_shape=shape, img_path=f'/img/{seed}.png',
                 img_id=str(seed), instances=instances, **extra)
    return PackSAMInputs()(SAMPrompts(prompts=prompts, frame=frame).transform(state))


def paste(result: Dict) -> np.ndarray:
    """The full ``(N, H, W)`` masks of a result's crops."""
    height, width = result['ori_shape']
    masks = np.zeros((len(result['mask_crops']), height, width), dtype=bool)
    for mask, crop, (x0, y0) in zip(masks, result['mask_crops'], result['mask_offsets']):
        mask[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    return masks


@pytest.fixture(scope='package')
def tiny_model() -> SAMGenerator:
    """A tiny random-weight SAM (seeded), in eval mode, fp32 (exact comparisons)."""
    torch.manual_seed(0)
    return SAMGenerator(arch=TINY_ARCH, precision='fp32').eval()


@pytest.fixture(scope='package')
def sam_testing() -> SimpleNamespace:
    """The helpers of this module, for the tests."""
    return SimpleNamespace(TINY_ARCH=TINY_ARCH, BOXES=BOXES, make_sample=make_sample,
                           paste=paste)
