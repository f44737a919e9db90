"""A tiny SAMRS set in both layouts, with masks simple enough to count by hand.

Classes ``('a', 'b', 'c')``. Image ``A`` (20 x 30, RGB PNG), rows x cols, inclusive:

* ``i0`` class a: rows 0-4, cols 0-4 (25 px)
* ``i1`` class b: rows 10-11, cols 10-19 (20 px)
* ``i2`` class a: rows 15-19, cols 25-29 (25 px)
* ``i3`` class c: rows 2-13, cols 2-13 (144 px), under i0 (9 px overlap) and i1 (8 px)
* ``i4`` class b: empty mask
* ``i5`` class a: rows 15-19, cols 20-24 (25 px), touching i2

Image ``B`` (20 x 30, RGB PNG): no objects (all 255). Image ``C`` (10 x 10, grey JPEG):
``i0`` class b covering all 100 pixels. Overlaps are painted smaller on top (the writer's
default), so A's label PNG has class c on 144 - 9 - 8 = 127 pixels.
"""
import json
import shutil
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

from mmsamrs.datasets.class_names import make_palette
from mmsamrs.generation import SAMRSLabelWriter

CLASSES = ('a', 'b', 'c')
# stem -> ((H, W), image mode, [(class, row0, row1, col0, col1) inclusive; None = empty])
IMAGES: Dict[str, Tuple[Tuple[int, int], str, List[tuple]]] = {
    'A': ((20, 30), 'RGB', [(0, 0, 4, 0, 4), (1, 10, 11, 10, 19), (0, 15, 19, 25, 29),
                            (2, 2, 13, 2, 13), (1, None, None, None, None),
                            (0, 15, 19, 20, 24)]),
    'B': ((20, 30), 'RGB', []),
    'C': ((10, 10), 'L', [(1, 0, 9, 0, 9)]),
}
SUFFIX = {'RGB': '.png', 'L': '.jpg'}


def write_images(img_dir: Path) -> None:
    """The images: a colour gradient (RGB PNG) or grey (JPEG), by ``IMAGES``."""
    img_dir.mkdir(parents=True, exist_ok=True)
    for stem, ((h, w), mode, _) in IMAGES.items():
        if mode == 'RGB':
            yy, xx = np.mgrid[:h, :w]
            pixels = np.stack([yy * 10, xx * 8, np.full_like(yy, 200)], -1).astype(np.uint8)
        else:
            pixels = np.full((h, w), 90, np.uint8)
        Image.fromarray(pixels).save(img_dir / (stem + SUFFIX[mode]))


def write_generator_set(out_dir: Path, img_dir: Path) -> None:
    """Generator layout (``gray/``, ``color/``, ``instances.json``) via the real writer."""
    write_images(img_dir)
    writer = SAMRSLabelWriter(str(out_dir), CLASSES, make_palette(len(CLASSES)),
                              img_root=str(img_dir.parent))
    for stem, ((h, w), mode, objects) in IMAGES.items():
        crops, offsets, boxes = [], [], []
        for _, r0, r1, c0, c1 in objects:
            if r0 is None:
                crops.append(np.zeros((0, 0), bool))
                offsets.append((0, 0))
                boxes.append((0, 0, 1, 1))
            else:
                crops.append(np.ones((r1 - r0 + 1, c1 - c0 + 1), bool))
                offsets.append((c0, r0))
                boxes.append((c0, r0, c1 + 1, r1 + 1))
        writer.write(dict(
            img_id=stem, img_path=str(img_dir / (stem + SUFFIX[mode])), ori_shape=(h, w),
            error=None, labels=np.array([o[0] for o in objects], np.int64),
            scores=np.ones(len(objects)), hboxes=np.array(boxes, float).reshape(-1, 4),
            rboxes=None, mask_crops=crops, mask_offsets=np.array(offsets).reshape(-1, 2)))
    writer.finalize()


def write_release_set(set_root: Path, generator_dir: Path, img_dir: Path) -> None:
    """Public-release layout: ``<set>/images/``, ``<set>/hbox_segs_init/gray/``."""
    shutil.copytree(img_dir, set_root / 'images')
    shutil.copytree(generator_dir / 'gray', set_root / 'hbox_segs_init' / 'gray')


def repeat_set(generator_dir: Path, out_dir: Path, times: int) -> None:
    """Generator layout with every image of ``generator_dir`` repeated ``times`` times."""
    coco = json.loads((generator_dir / 'instances.json').read_text())
    (out_dir / 'gray').mkdir(parents=True)
    images, annotations = [], []
    for k in range(times):
        for image in coco['images']:
            stem = f'{image["stem"]}_{k}'
            shutil.copy(generator_dir / 'gray' / f'{image["stem"]}.png',
                        out_dir / 'gray' / f'{stem}.png')
            images.append(dict(image, id=len(images) + 1, stem=stem))
            annotations += [dict(a, id=len(annotations) + 1, image_id=len(images))
                            for a in coco['annotations'] if a['image_id'] == image['id']]
    (out_dir / 'instances.json').write_text(json.dumps(
        dict(annotations=annotations, categories=coco['categories'], images=images)))
