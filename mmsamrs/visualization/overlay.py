"""Pixel-level drawing of SAMRS labels on images: class-colour blending, instance outlines.

Plain numpy/OpenCV on ``uint8`` RGB arrays, so what lands on which pixel is exact (and
tested); :class:`~mmsamrs.visualization.SAMRSVisualizer` and the figure helpers build on it.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Sequence, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from mmsamrs.utils import IGNORE_INDEX

Colour = Sequence[int]


def colour_table(palette: Sequence[Colour]) -> np.ndarray:
    """``(256, 3)`` ``uint8`` lookup table: row ``i`` is ``palette[i]``, later rows black."""
    if len(palette) > IGNORE_INDEX:
        raise ValueError(f'at most {IGNORE_INDEX} class colours ({IGNORE_INDEX} = no mask), '
                         f'got {len(palette)}')
    table = np.zeros((256, 3), dtype=np.uint8)
    if len(palette):
        table[:len(palette)] = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    return table


def blend_labels(image: np.ndarray, label: np.ndarray, palette: Sequence[Colour],
                 alpha: float = 0.5) -> np.ndarray:
    """Blend the class colours of ``label`` into ``image``.

    A pixel of class ``c < len(palette)`` becomes ``image * (1 - alpha) + palette[c] *
    alpha`` (truncated to ``uint8``, as mmseg's ``SegLocalVisualizer`` blends); every other
    pixel (255 = no mask) keeps the image colour, unlike mmseg, which darkens it.

    Args:
        image: ``(H, W, 3)`` ``uint8`` RGB image.
        label: ``(H, W)`` class-index map.
        palette: one RGB colour per class.
        alpha: weight of the class colour.

    Returns:
        A new ``(H, W, 3)`` ``uint8`` array.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != label.shape:
        raise ValueError(f'image {image.shape} must be (H, W, 3) with the label size '
                         f'{label.shape}')
    labelled = label < len(palette)
    out = image.copy()
    colours = colour_table(palette)[label[labelled]]
    out[labelled] = (image[labelled] * (1 - alpha) + colours * alpha).astype(np.uint8)
    return out


def annotation_mask(ann: Dict[str, Any], height: int, width: int) -> np.ndarray:
    """Boolean ``(H, W)`` mask of a COCO annotation (compressed/uncompressed RLE, polygons)."""
    seg = ann['segmentation']
    if isinstance(seg, dict) and isinstance(seg['counts'], str):
        rle = dict(seg, counts=seg['counts'].encode('ascii'))
    else:
        rle = mask_utils.frPyObjects(seg, height, width)
        if isinstance(rle, list):
            rle = mask_utils.merge(rle)
    mask = np.ascontiguousarray(mask_utils.decode(rle), dtype=bool)
    if mask.shape != (height, width):
        raise ValueError(f'annotation {ann.get("id")}: mask {mask.shape} in an image of '
                         f'{(height, width)}')
    return mask


def mask_outline(mask: np.ndarray, thickness: int = 1) -> np.ndarray:
    """The ``thickness`` innermost pixel rings of ``mask`` (pixels outside count as empty)."""
    outline = np.zeros(mask.shape, dtype=bool)
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    if w == 0:
        return outline
    crop = mask[y:y + h, x:x + w].view(np.uint8)
    eroded = cv2.erode(crop, np.ones((3, 3), np.uint8), iterations=thickness,
                       borderType=cv2.BORDER_CONSTANT, borderValue=0)
    outline[y:y + h, x:x + w] = (crop > 0) & (eroded == 0)
    return outline


def draw_outlines(image: np.ndarray, instances: Iterable[Tuple[np.ndarray, Colour]],
                  thickness: int = 1) -> np.ndarray:
    """Paint the outline of each ``(mask, colour)`` in ``colour``; return a new array."""
    out = image.copy()
    for mask, colour in instances:
        out[mask_outline(mask, thickness)] = np.asarray(colour, dtype=np.uint8)
    return out


def outline_thickness(shape: Tuple[int, int], panel_pixels: int = 400) -> int:
    """Outline width that stays visible when an image of ``shape`` is drawn
    ``panel_pixels`` wide."""
    return max(1, round(max(shape) / panel_pixels))


def present_labels(label: np.ndarray, num_classes: int) -> List[int]:
    """Class indices that occur in ``label``."""
    values = np.flatnonzero(np.bincount(label.ravel(), minlength=256)[:num_classes])
    return [int(v) for v in values]


def label_box_position(occupied: np.ndarray, anchor: Sequence[float],
                       size: Tuple[int, int]) -> Tuple[int, int]:
    """Top-left ``(x, y)`` of a ``size = (w, h)`` box placed where it covers the fewest
    ``occupied`` pixels, the nearest to ``anchor = (x, y)`` among those.

    The box lies inside the image (it is clamped when larger). Candidate positions are
    a grid with a step of a quarter of the box height; the pixels under each are counted
    with an integral image, so the search costs ``O(H * W)``.
    """
    height, width = occupied.shape
    w, h = min(int(size[0]), width), min(int(size[1]), height)
    integral = np.zeros((height + 1, width + 1), dtype=np.int64)
    integral[1:, 1:] = occupied.astype(np.int64).cumsum(0).cumsum(1)
    step = max(1, h // 4)
    xs = np.unique(np.append(np.arange(0, width - w + 1, step), width - w))
    ys = np.unique(np.append(np.arange(0, height - h + 1, step), height - h))
    y0, x0 = np.meshgrid(ys, xs, indexing='ij')
    covered = (integral[y0 + h, x0 + w] - integral[y0, x0 + w] - integral[y0 + h, x0]
               + integral[y0, x0])
    distance = (x0 + w / 2 - anchor[0])**2 + (y0 + h / 2 - anchor[1])**2
    best = np.lexsort((distance.ravel(), covered.ravel()))[0]
    return int(x0.ravel()[best]), int(y0.ravel()[best])
