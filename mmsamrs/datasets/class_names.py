"""Class tuples of the SAMRS sets (label index = position, official order) and palettes."""
from functools import lru_cache
from typing import List, Sequence, Tuple

import numpy as np

from mmsamrs.utils import IGNORE_INDEX

SOTA_CLASSES: Tuple[str, ...] = (
    'large-vehicle', 'swimming-pool', 'helicopter', 'bridge', 'plane', 'ship',
    'soccer-ball-field', 'basketball-court', 'ground-track-field', 'small-vehicle',
    'baseball-diamond', 'tennis-court', 'roundabout', 'storage-tank', 'harbor',
    'container-crane', 'airport', 'helipad')

SIOR_CLASSES: Tuple[str, ...] = (
    'airplane', 'airport', 'baseballfield', 'basketballcourt', 'bridge', 'chimney',
    'expressway-service-area', 'expressway-toll-station', 'dam', 'golffield',
    'groundtrackfield', 'harbor', 'overpass', 'ship', 'stadium', 'storagetank',
    'tenniscourt', 'trainstation', 'vehicle', 'windmill')

FAST_CLASSES: Tuple[str, ...] = (
    'A220', 'A321', 'A330', 'A350', 'ARJ21', 'Baseball-Field', 'Basketball-Court',
    'Boeing737', 'Boeing747', 'Boeing777', 'Boeing787', 'Bridge', 'Bus', 'C919',
    'Cargo-Truck', 'Dry-Cargo-Ship', 'Dump-Truck', 'Engineering-Ship', 'Excavator',
    'Fishing-Boat', 'Football-Field', 'Intersection', 'Liquid-Cargo-Ship', 'Motorboat',
    'other-airplane', 'other-ship', 'other-vehicle', 'Passenger-Ship', 'Roundabout',
    'Small-Car', 'Tennis-Court', 'Tractor', 'Trailer', 'Truck-Tractor', 'Tugboat', 'Van',
    'Warship')

HRSC_CLASSES: Tuple[str, ...] = ('ship', )


#: sRGB grid step and CIELAB lightness range of the palette candidates (away from the
#: black of unlabelled pixels and from white).
PALETTE_STEP = 15
PALETTE_LIGHTNESS = (35.0, 88.0)


def srgb_to_lab(rgb) -> np.ndarray:
    """CIELAB (D65) of sRGB colours given as ``(..., 3)`` values in 0-255."""
    c = np.asarray(rgb, dtype=np.float64) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055)**2.4)
    to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29)**3, np.cbrt(xyz), xyz / (3 * (6 / 29)**2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


@lru_cache()
def _palette_sequence(length: int) -> Tuple[Tuple[int, int, int], ...]:
    """The first ``length`` colours of the greedy farthest-point sequence (see
    :func:`make_palette`)."""
    levels = np.arange(0, 256, PALETTE_STEP)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing='ij'), -1).reshape(-1, 3)
    lab = srgb_to_lab(grid)
    keep = (lab[:, 0] >= PALETTE_LIGHTNESS[0]) & (lab[:, 0] <= PALETTE_LIGHTNESS[1])
    grid, lab = grid[keep], lab[keep]
    nearest = np.min([np.linalg.norm(lab - srgb_to_lab(c), axis=1)
                      for c in ((0, 0, 0), (255, 255, 255))], axis=0)
    colours = []
    for _ in range(length):
        best = int(np.argmax(nearest))
        colours.append(tuple(int(v) for v in grid[best]))
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[best], axis=1))
    return tuple(colours)


def make_palette(num_classes: int) -> List[List[int]]:
    """Return ``num_classes`` clearly distinct RGB colours, the same for every call.

    Greedy farthest-point sampling in CIELAB: each colour is the sRGB grid colour
    (step ``PALETTE_STEP``, lightness in ``PALETTE_LIGHTNESS``) farthest from black,
    white and the colours before it. A palette of ``n`` colours is the first ``n`` of
    the sequence, so class ``i`` keeps its colour in sets of any size; the first
    classes get the most distinct colours.
    """
    if num_classes > IGNORE_INDEX:
        raise ValueError(f'at most {IGNORE_INDEX} classes ({IGNORE_INDEX} = no label), '
                         f'got {num_classes}')
    return [list(c) for c in _palette_sequence(num_classes)]


def class_index(classes: Sequence[str]) -> dict:
    """Map each class name of a tuple to its label index."""
    return {name: i for i, name in enumerate(classes)}
