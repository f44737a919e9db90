"""COCO run-length encoding of a mask crop without building the full-image mask."""
from __future__ import annotations

from typing import Dict, Tuple, Union

import numpy as np
from pycocotools import mask as mask_utils

from .crops import Crop


def crop_run_counts(crop: Crop, shape: Tuple[int, int]) -> np.ndarray:
    """Uncompressed COCO RLE counts of ``crop`` placed in an image of ``shape = (H, W)``.

    COCO runs go down the columns (Fortran order) and alternate zeros/ones starting with
    zeros; a run of ones that reaches the bottom edge continues at the top of the next
    column. The work (and memory) is proportional to the crop, not to ``H * W``.
    """
    height, width = int(shape[0]), int(shape[1])
    total = height * width
    if not 0 < total < 2**32:
        raise ValueError(f'COCO RLE needs 0 < H * W < 2**32, got shape {shape}')
    if crop.mask.size == 0:
        return np.array([total], dtype=np.uint32)
    h, w = crop.mask.shape
    padded = np.zeros((w, h + 2), dtype=np.int8)  # one column of the image per row
    padded[:, 1:-1] = crop.mask.T
    step = np.diff(padded, axis=1)  # +1 where a run starts, -1 one past where it ends
    col_s, row_s = np.nonzero(step == 1)
    col_e, row_e = np.nonzero(step == -1)
    if col_s.size == 0:
        return np.array([total], dtype=np.uint32)
    starts = (crop.x0 + col_s) * height + crop.y0 + row_s
    ends = (crop.x0 + col_e) * height + crop.y0 + row_e
    joined = ends[:-1] == starts[1:]  # runs continuing into the next column
    starts = starts[np.concatenate(([True], ~joined))]
    ends = ends[np.concatenate((~joined, [True]))]
    bounds = np.empty(2 * starts.size + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, total
    bounds[1:-1:2], bounds[2:-1:2] = starts, ends
    counts = np.diff(bounds)
    if counts[-1] == 0:  # the last run of ones reaches the last pixel
        counts = counts[:-1]
    return counts.astype(np.uint32)


def encode_crop(crop: Crop, shape: Tuple[int, int]) -> Dict[str, Union[list, str]]:
    """Compressed COCO RLE ``{'size': [H, W], 'counts': str}`` of ``crop`` in the image.

    Byte-for-byte equal to ``pycocotools.mask.encode(np.asfortranarray(full_mask))`` (with
    ``counts`` decoded to ``str`` so it can go into JSON).
    """
    height, width = int(shape[0]), int(shape[1])
    rle = mask_utils.frPyObjects(
        {'size': [height, width], 'counts': crop_run_counts(crop, shape)}, height, width)
    return {'size': [height, width], 'counts': rle['counts'].decode('ascii')}
