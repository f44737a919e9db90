"""Sample images of a SAMRS set drawn with their labels (and instance outlines)."""
from __future__ import annotations

import hashlib
import heapq
import sys
from typing import List, Optional, Sequence

import numpy as np
from mmengine.utils import track_iter_progress
from PIL import Image

from mmsamrs.analysis.coco_stream import (annotations_for_stems, category_label_indices,
                                          classes_from_categories)
from mmsamrs.analysis.set_files import SetSource, find_image, stem_of
from mmsamrs.datasets.class_names import make_palette
from .figures import GridRow
from .overlay import annotation_mask, present_labels
from .visualizer import SAMRSVisualizer


def pick_stems(source: SetSource, num: int, seed: int = 0) -> List[str]:
    """``num`` image stems of the set chosen by a seeded hash (same pick in any file order).

    Streams over the label folder keeping ``num`` stems, so it works on any set size.
    """

    def key(stem: str) -> bytes:
        return hashlib.blake2b(f'{seed}/{stem}'.encode(), digest_size=8).digest()

    stems = (stem_of(p) for p in source.iter_label_files())
    return sorted(heapq.nsmallest(num, stems, key=key))


def read_rgb(path: str) -> np.ndarray:
    """An image file as ``(H, W, 3)`` ``uint8`` RGB."""
    with Image.open(path) as image:
        return np.asarray(image.convert('RGB'))


def draw_set_row(source: SetSource, stems: Sequence[str], with_instances: bool = False,
                 alpha: float = 0.5, with_labels: bool = False,
                 name: Optional[str] = None, progress: bool = False) -> GridRow:
    """Overlays of ``stems`` of a set, ready for :func:`~.figures.save_sample_grid`.

    Args:
        source: the set's files; its images must be found (``img_dirs``).
        stems: images to draw.
        with_instances: outline each instance of ``source.coco_file`` in its class colour.
        alpha: weight of the class colour.
        with_labels: write class names on the overlays.
        name: row name; default the set name.
        progress: show mmengine's progress bar over the images.
    """
    if with_instances and source.coco_file is None:
        raise ValueError(f'{source.name}: instance outlines need an instances.json')
    categories, annotations = [], {}
    if source.coco_file is not None and (with_instances or source.classes is None):
        categories, _, annotations = annotations_for_stems(
            source.coco_file, stems if with_instances else ())
    classes = source.classes or classes_from_categories(categories)
    palette = make_palette(len(classes))
    to_label = category_label_indices(categories, classes) if with_instances else {}
    visualizer = SAMRSVisualizer(name=f'samrs_{source.name}', classes=classes,
                                 palette=palette, alpha=alpha)
    row = GridRow(name or source.name, classes, palette)
    for stem in track_iter_progress(list(stems), file=sys.stdout) if progress else stems:
        image_path = find_image(stem, source.img_dirs)
        if image_path is None:
            raise FileNotFoundError(f'{source.name}: no image {stem}.* in {source.img_dirs}; '
                                    'give the image folder (--img-dir / img_dir)')
        with Image.open(source.label_path(stem)) as label_file:
            label = np.asarray(label_file)
        image = read_rgb(image_path)
        height, width = label.shape
        instances = [(annotation_mask(a, height, width), to_label[int(a['category_id'])])
                     for a in annotations.get(stem, ())]
        row.panels.append(visualizer.draw_samrs(image, label, instances, with_labels))
        row.titles.append(stem)
        row.present.update(present_labels(label, len(classes)))
        row.present.update(c for _, c in instances)
    return row
