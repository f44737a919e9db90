"""Class tuples of the SAMRS sets (label index = position, official order) and palettes."""
from typing import List, Sequence, Tuple

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


def make_palette(num_classes: int, seed: int = 2023) -> List[List[int]]:
    """Return ``num_classes`` distinct, reproducible RGB colours (never pure black/white)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    colours: List[List[int]] = []
    while len(colours) < num_classes:
        c = [int(v) for v in rng.integers(16, 240, size=3)]
        if c not in colours:
            colours.append(c)
    return colours


def class_index(classes: Sequence[str]) -> dict:
    """Map each class name of a tuple to its label index."""
    return {name: i for i, name in enumerate(classes)}
