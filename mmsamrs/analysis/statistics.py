"""Per-set statistics of SAMRS labels (paper Table 2, Figures 5 and 6), streamed.

Each label PNG is measured in a worker process (:func:`measure_image`) into a small,
fixed-size :class:`ImageStats` that the main process adds to a :class:`SetAccumulator`
at once; mask sizes go into the fixed bins :data:`SIZE_BIN_EDGES`. Memory therefore does
not grow with the number of images: no per-image results, file lists or size lists are
kept (only counters of the distinct image sizes and channel layouts).

Pixels per class always come from the label PNGs (what a segmentation model trains on:
overlaps already resolved). Instances per class and mask sizes come from
``instances.json`` when the set has one: every annotation with a non-empty mask counts
(the paper counts "instances that have valid masks"), at its full mask area. Without it
(the public release's semantic labels) they are **approximated by the connected
components** (8-connectivity) of each class in the label PNG: touching objects of one
class merge into one component, an object cut in two by another on top counts twice, and
hidden parts are not counted in its size.
"""
from __future__ import annotations

import bisect
import collections
import contextlib
import math
import os
from dataclasses import dataclass
from itertools import islice
from multiprocessing import Pool
from typing import Counter, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar
from PIL import Image

from mmsamrs.utils import IGNORE_INDEX
from .coco_stream import category_label_indices, classes_from_categories, iter_coco
from .set_files import SetSource, find_image, stem_of

SMALL_MASK = 100
# [1, 100) is the paper's "extremely small" bucket; above, four bins per decade up to
# 10**7 pixels, and one open bin beyond
SIZE_BIN_EDGES: Tuple[float, ...] = ((1, SMALL_MASK)
                                     + tuple(round(10**(2 + k / 4)) for k in range(1, 21))
                                     + (math.inf, ))
NUM_SIZE_BINS = len(SIZE_BIN_EDGES) - 1
NUM_VALUES = 256  # label PNG values
INSTANCES_FROM_JSON, INSTANCES_FROM_COMPONENTS = 'instances.json', 'connected components'


def size_bin(area: int) -> int:
    """Index of the mask-size bin of ``area`` (>= 1 pixel)."""
    return bisect.bisect_right(SIZE_BIN_EDGES, area) - 1


def size_histogram(areas: np.ndarray) -> np.ndarray:
    """Counts of ``areas`` (all >= 1) per mask-size bin."""
    bins = np.searchsorted(np.asarray(SIZE_BIN_EDGES), areas, side='right') - 1
    return np.bincount(bins, minlength=NUM_SIZE_BINS).astype(np.int64)


def size_bin_label(index: int) -> str:
    """Readable range of bin ``index``, e.g. ``'<100'``, ``'100-178'``, ``'>=10M'``."""

    def short(value: float) -> str:
        for unit, scale in (('M', 10**6), ('k', 10**3)):
            if value >= scale:
                return f'{value / scale:.3g}{unit}'
        return f'{value:g}'

    low, high = SIZE_BIN_EDGES[index], SIZE_BIN_EDGES[index + 1]
    if index == 0:
        return f'<{short(high)}'
    if math.isinf(high):
        return f'>={short(low)}'
    return f'{short(low)}-{short(high)}'


@dataclass
class ImageStats:
    """What one label PNG contributes (fixed size, whatever the image).

    Attributes:
        pixels: ``(256,)`` pixel count of each label value (255 = no mask).
        shape: ``(H, W)`` of the label map.
        mode: PIL mode of the image (``'RGB'``, ``'L'``, ...), ``None`` if not found.
        component_counts: ``(256,)`` connected components per label value, or ``None``
            when instances come from ``instances.json``.
        component_sizes: ``(NUM_SIZE_BINS,)`` histogram of the component areas, or ``None``.
    """

    pixels: np.ndarray
    shape: Tuple[int, int]
    mode: Optional[str]
    component_counts: Optional[np.ndarray] = None
    component_sizes: Optional[np.ndarray] = None


def measure_image(label_path: str, img_dirs: Sequence[str], components: bool) -> ImageStats:
    """Measure one label PNG (and read its image's header for the channel layout).

    Args:
        label_path: the label PNG (single channel, class index per pixel).
        img_dirs: folders searched for the image of the same stem.
        components: also count connected components per class (no ``instances.json``).
    """
    with Image.open(label_path) as label_file:
        label = np.asarray(label_file)
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ValueError(f'{label_path}: a label PNG must be single-channel uint8, got '
                         f'shape {label.shape} {label.dtype}')
    pixels = np.bincount(label.ravel(), minlength=NUM_VALUES).astype(np.int64)
    image_path = find_image(stem_of(label_path), img_dirs)
    mode = None
    if image_path is not None:
        with Image.open(image_path) as image:  # reads the header only
            mode = image.mode
    stats = ImageStats(pixels, (int(label.shape[0]), int(label.shape[1])), mode)
    if components:
        counts = np.zeros(NUM_VALUES, dtype=np.int64)
        sizes = np.zeros(NUM_SIZE_BINS, dtype=np.int64)
        for value in np.flatnonzero(pixels[:IGNORE_INDEX]):
            num, _, cc_stats, _ = cv2.connectedComponentsWithStats(
                (label == value).view(np.uint8), connectivity=8)
            counts[value] = num - 1
            sizes += size_histogram(cc_stats[1:, cv2.CC_STAT_AREA])
        stats.component_counts, stats.component_sizes = counts, sizes
    return stats


@dataclass
class SetStatistics:
    """Statistics of one set (arrays indexed by label index).

    Attributes:
        name: set name.
        classes: class tuple.
        images: number of label PNGs.
        image_sizes: ``{(H, W): images}``.
        channels: ``{PIL mode: images}``; images not found are not counted.
        pixels: ``(C,)`` labelled pixels per class.
        unlabelled_pixels: pixels of value 255.
        invalid_pixels: pixels with a value that is neither a class nor 255.
        instances: ``(C,)`` instances with a non-empty mask per class.
        empty_masks: annotations with an empty mask (not counted as instances).
        size_hist: ``(NUM_SIZE_BINS,)`` instances per mask-size bin.
        instance_source: :data:`INSTANCES_FROM_JSON` or :data:`INSTANCES_FROM_COMPONENTS`.
    """

    name: str
    classes: Tuple[str, ...]
    images: int
    image_sizes: Dict[Tuple[int, int], int]
    channels: Dict[str, int]
    pixels: np.ndarray
    unlabelled_pixels: int
    invalid_pixels: int
    instances: np.ndarray
    empty_masks: int
    size_hist: np.ndarray
    instance_source: str

    @property
    def total_instances(self) -> int:
        """Instances of all classes."""
        return int(self.instances.sum())


class SetAccumulator:
    """Running sums of :class:`ImageStats` over the images of one set."""

    def __init__(self) -> None:
        self.images = 0
        self.pixels = np.zeros(NUM_VALUES, dtype=np.int64)
        self.component_counts = np.zeros(NUM_VALUES, dtype=np.int64)
        self.component_sizes = np.zeros(NUM_SIZE_BINS, dtype=np.int64)
        self.image_sizes: Counter[Tuple[int, int]] = collections.Counter()
        self.channels: Counter[str] = collections.Counter()

    def add(self, stats: ImageStats) -> None:
        """Add one image's statistics."""
        self.images += 1
        self.pixels += stats.pixels
        self.image_sizes[stats.shape] += 1
        if stats.mode is not None:
            self.channels[stats.mode] += 1
        if stats.component_counts is not None:
            self.component_counts += stats.component_counts
            self.component_sizes += stats.component_sizes


@dataclass
class CocoCounts:
    """Instance counts read from a COCO file (see :func:`count_coco_instances`)."""

    per_category: Dict[int, int]
    size_hist: np.ndarray
    empty_masks: int
    categories: List[dict]


def count_coco_instances(coco_file: str, progress: bool = False) -> CocoCounts:
    """Instances per category id and mask-size histogram of a COCO file, in one stream
    (``progress``: mmengine's progress bar over the file)."""
    per_category: Dict[int, int] = collections.defaultdict(int)
    size_hist = np.zeros(NUM_SIZE_BINS, dtype=np.int64)
    empty = 0
    categories: List[dict] = []
    for key, element in iter_coco(coco_file, ('annotations', 'categories'),
                                  progress=progress):
        if key == 'categories':
            categories.append(element)
            continue
        area = int(round(element['area']))
        if area < 1:
            empty += 1
            continue
        per_category[int(element['category_id'])] += 1
        size_hist[size_bin(area)] += 1
    return CocoCounts(dict(per_category), size_hist, empty, categories)


def _bounded_imap(pool: Pool, func, args: Iterable[tuple], window: int) -> Iterator:
    """``pool`` applied to ``args`` with at most ``window`` tasks in flight (in order)."""
    args = iter(args)
    pending = collections.deque(pool.apply_async(func, a) for a in islice(args, window))
    while pending:
        result = pending.popleft().get()
        for a in islice(args, 1):
            pending.append(pool.apply_async(func, a))
        yield result


def _coco_instances(source: SetSource,
                    progress: bool) -> Tuple[Tuple[str, ...], np.ndarray, np.ndarray, int]:
    """Classes, instances per class, size histogram and empty masks from the COCO file."""
    coco = count_coco_instances(source.coco_file, progress)
    classes = source.classes or classes_from_categories(coco.categories)
    unknown = set(coco.per_category) - {int(c['id']) for c in coco.categories}
    if unknown:
        raise ValueError(f'{source.coco_file}: annotations of unknown category ids '
                         f'{sorted(unknown)}')
    instances = np.zeros(len(classes), dtype=np.int64)
    for cat_id, label in category_label_indices(coco.categories, classes).items():
        instances[label] = coco.per_category.get(cat_id, 0)
    return classes, instances, coco.size_hist, coco.empty_masks


def analyze_set(source: SetSource, workers: int = 0, progress: bool = True) -> SetStatistics:
    """Statistics of one set (see the module docstring).

    Args:
        source: the set's files.
        workers: worker processes for the label PNGs; 0 measures in this process.
        progress: show mmengine's progress bar.
    """
    components = source.coco_file is None
    tasks = ((path, source.img_dirs, components) for path in source.iter_label_files())
    bar = ProgressBar(source.count_label_files()) if progress else None
    acc = SetAccumulator()
    with contextlib.ExitStack() as stack:
        if workers > 0:
            pool = stack.enter_context(Pool(workers))
            results = _bounded_imap(pool, measure_image, tasks, window=8 * workers)
        else:
            results = (measure_image(*task) for task in tasks)
        for stats in results:
            acc.add(stats)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.file.write('\n')

    if components:
        classes, instances, size_hist, empty = (source.classes, acc.component_counts,
                                                acc.component_sizes, 0)
    else:
        classes, instances, size_hist, empty = _coco_instances(source, progress)
    num = len(classes)
    return SetStatistics(
        name=source.name, classes=tuple(classes), images=acc.images,
        image_sizes=dict(acc.image_sizes), channels=dict(acc.channels),
        pixels=acc.pixels[:num].copy(), unlabelled_pixels=int(acc.pixels[IGNORE_INDEX]),
        invalid_pixels=int(acc.pixels[num:IGNORE_INDEX].sum()),
        instances=instances[:num].copy(), empty_masks=empty, size_hist=size_hist,
        instance_source=INSTANCES_FROM_COMPONENTS if components else INSTANCES_FROM_JSON)


def default_workers() -> int:
    """Worker processes to use by default: the CPU count, at most 8."""
    return min(8, os.cpu_count() or 1)
