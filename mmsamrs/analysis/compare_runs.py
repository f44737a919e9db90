"""Agreement of two label-generation runs over the same images and prompts.

Two runs of ``tools/generate_masks.py`` (another precision, another SAM, another machine,
or the official-style loop of ``benchmarks/generation.py``) are compared instance by
instance and pixel by pixel. Each run folder holds what the generator writes:
``instances.json`` (COCO, RLE masks; each annotation with its image's ``stem`` through
``image_id`` and its ``source_index``, the position of its object in the source
annotation) and ``gray/<stem>.png`` (the label map, class index per pixel, 255 where no
mask). Instances are matched by ``(image stem, source_index)``.

Reported (:meth:`RunComparison.summary`):

* ``mean_iou``, ``median_iou``, ``min_iou``: mask IoU of matched instances (two empty
  masks count as IoU 1), and the fractions ``identical`` (IoU 1), ``iou_099`` (>= 0.99)
  and ``iou_09`` (>= 0.9);
* ``max_score_diff``: largest difference of SAM's predicted IoU (``score``);
* ``pixel_agreement``: fraction of label-map pixels with the same value (255 included);
* ``label_miou``: mean over classes of the IoU of the two runs' pixel sets of that class.
"""
import json
import os
from collections import defaultdict
from typing import Any, Dict, List, Tuple

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from mmsamrs.utils import IGNORE_INDEX, atomic_open
from .coco_stream import image_stem, iter_coco


def _read_run(run_dir: str) -> Tuple[List[str], Dict[Tuple[str, int], Dict[str, Any]]]:
    """Image stems and annotations keyed by ``(stem, source_index)`` of a run folder."""
    path = os.path.join(run_dir, 'instances.json')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} not found: expected a label-generation run folder '
                                '(instances.json and gray/)')
    stems: Dict[int, str] = {}
    annotations: List[Dict[str, Any]] = []
    for key, element in iter_coco(path, ('images', 'annotations')):
        if key == 'images':
            stems[element['id']] = image_stem(element)
        else:
            annotations.append(element)
    keyed = {}
    for ann in annotations:
        if ann['image_id'] not in stems or 'source_index' not in ann:
            raise ValueError(f'{path}: annotation {ann.get("id")} has no image entry or no '
                             'source_index; expected a generator-written instances.json')
        keyed[(stems[ann['image_id']], int(ann['source_index']))] = ann
    return sorted(stems.values()), keyed


class RunComparison:
    """Accumulates the agreement of pairs of run folders; :meth:`summary` reports it.

    Several pairs (e.g. one per source dataset) can be added; their instances and pixels
    pool, and each pair's classes are kept apart in ``label_miou``.
    """

    def __init__(self) -> None:
        self.ious: List[float] = []
        self.score_diffs: List[float] = []
        self.images = 0
        self.pixels = 0
        self.equal_pixels = 0
        self.intersection: Dict[Tuple[int, int], int] = defaultdict(int)
        self.union: Dict[Tuple[int, int], int] = defaultdict(int)
        self.pairs = 0

    def add(self, run_a: str, run_b: str) -> None:
        """Compare run folder ``run_a`` with ``run_b`` (same images and instances).

        Raises:
            FileNotFoundError: a run folder lacks ``instances.json`` or a label map.
            ValueError: the runs hold different images, instances or classes.
        """
        stems_a, anns_a = _read_run(run_a)
        stems_b, anns_b = _read_run(run_b)
        if stems_a != stems_b:
            only = sorted(set(stems_a) ^ set(stems_b))
            raise ValueError(f'{run_a} and {run_b} hold different images (only in one: '
                             f'{only[:5]}); expected runs over the same images')
        if anns_a.keys() != anns_b.keys():
            only = sorted(set(anns_a) ^ set(anns_b))
            raise ValueError(f'{run_a} ({len(anns_a)} instances) and {run_b} '
                             f'({len(anns_b)}) hold different instances (image stem, '
                             f'source_index), e.g. {only[:5]}')
        for key, a in anns_a.items():
            b = anns_b[key]
            if a['category_id'] != b['category_id']:
                raise ValueError(f'{run_a} vs {run_b}: instance {key} has class '
                                 f'{a["category_id"]} vs {b["category_id"]}')
            if a['area'] == 0 and b['area'] == 0:
                self.ious.append(1.0)
            else:
                self.ious.append(float(mask_utils.iou(
                    [a['segmentation']], [b['segmentation']], [0])[0, 0]))
            self.score_diffs.append(abs(float(a['score']) - float(b['score'])))
        for stem in stems_a:
            gray_a, gray_b = (self._label_map(run, stem) for run in (run_a, run_b))
            if gray_a.shape != gray_b.shape:
                raise ValueError(f'{stem}: label maps of {run_a} and {run_b} have shapes '
                                 f'{gray_a.shape} and {gray_b.shape}')
            self.pixels += gray_a.size
            self.equal_pixels += int((gray_a == gray_b).sum())
            for value in np.union1d(np.unique(gray_a), np.unique(gray_b)):
                if value == IGNORE_INDEX:
                    continue
                in_a, in_b = gray_a == value, gray_b == value
                self.intersection[(self.pairs, int(value))] += int((in_a & in_b).sum())
                self.union[(self.pairs, int(value))] += int((in_a | in_b).sum())
        self.images += len(stems_a)
        self.pairs += 1

    @staticmethod
    def _label_map(run_dir: str, stem: str) -> np.ndarray:
        path = os.path.join(run_dir, 'gray', stem + '.png')
        if not os.path.isfile(path):
            raise FileNotFoundError(f'{path} not found: every image of instances.json needs '
                                    'its label map')
        return np.asarray(Image.open(path))

    def summary(self) -> Dict[str, float]:
        """The agreement measures (see the module docstring) and the counts compared."""
        ious = np.asarray(self.ious) if self.ious else np.ones(1)
        class_ious = [self.intersection[k] / self.union[k] for k in self.union if self.union[k]]
        return dict(
            images=self.images, instances=len(self.ious),
            mean_iou=float(ious.mean()), median_iou=float(np.median(ious)),
            min_iou=float(ious.min()), identical=float((ious == 1).mean()),
            iou_099=float((ious >= 0.99).mean()), iou_09=float((ious >= 0.9).mean()),
            max_score_diff=float(max(self.score_diffs, default=0.0)),
            pixel_agreement=self.equal_pixels / max(self.pixels, 1),
            label_miou=float(np.mean(class_ious)) if class_ious else 1.0)


def compare_runs(run_a: str, run_b: str) -> Dict[str, float]:
    """Agreement of two run folders over the same images (see the module docstring)."""
    comparison = RunComparison()
    comparison.add(run_a, run_b)
    return comparison.summary()


def format_comparison(summary: Dict[str, float]) -> str:
    """One paragraph of :func:`compare_runs`' measures, for logs and reports."""
    s = summary
    return (f"{s['images']} images, {s['instances']} instances: mask IoU mean "
            f"{s['mean_iou']:.4f}, median {s['median_iou']:.4f}, min {s['min_iou']:.4f}; "
            f"identical {100 * s['identical']:.1f}%, IoU >= 0.99 {100 * s['iou_099']:.1f}%, "
            f">= 0.9 {100 * s['iou_09']:.1f}%; score max |diff| {s['max_score_diff']:.4f}; "
            f"label maps: {100 * s['pixel_agreement']:.3f}% of pixels equal, class mIoU "
            f"{s['label_miou']:.4f}")


def write_comparison(summary: Dict[str, float], path: str) -> None:
    """Write ``summary`` as JSON to ``path`` (atomically)."""
    with atomic_open(path) as f:
        f.write(json.dumps(summary, indent=1).encode() + b'\n')
