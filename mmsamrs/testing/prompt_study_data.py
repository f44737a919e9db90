"""Small HRSC2016-format and iSAID-format datasets with ground-truth masks, for the tests
of the prompt study (reader, mask loading, metric, ``tools/eval_prompts.py``)."""
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmsamrs.structures.boxes import rasterize_quads, rbox_to_quad

#: A ship: its R-Box ``(cx, cy, w, h, angle_rad)`` and its ``seg_color`` (None: no mask).
Ship = Tuple[Tuple[float, float, float, float, float], Optional[Tuple[int, int, int]]]

#: Two segmented test images (width, height, ships); the second ship of ``b`` has no mask.
HRSC_IMAGES: Dict[str, Tuple[int, int, List[Ship]]] = {
    'a': (240, 180, [((70., 60., 90., 24., 0.3), (255, 0, 0)),
                     ((160., 120., 100., 30., -0.6), (0, 128, 255))]),
    'b': (200, 160, [((100., 80., 120., 28., 1.2), (10, 200, 30)),
                     ((40., 130., 40., 14., 0.), None)]),
}


def _ship_image(rng: np.random.Generator, shape: Tuple[int, int],
                masks: Sequence[np.ndarray]) -> np.ndarray:
    """A noisy dark-water image with bright ships on ``masks``."""
    img = rng.integers(20, 60, (*shape, 3), dtype=np.uint8)
    for mask in masks:
        img[mask] = rng.integers(180, 240, (int(mask.sum()), 3), dtype=np.uint8)
    return img


def write_hrsc(realdata: Path, root: Path) -> Path:
    """HRSC2016 layout (``FullDataSet/``, ``ImageSets/test.txt``) of :data:`HRSC_IMAGES`,
    XML written from the real ``100000006.xml``, plus one unsegmented image ``c``."""
    template = (realdata / 'hrsc' / 'Annotations' / '100000006.xml').read_text()
    start, end = template.index('<HRSC_Object>'), template.index('</HRSC_Object>') + 14
    full = root / 'FullDataSet'
    for sub in ('Annotations', 'AllImages', 'Segmentations'):
        (full / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for img_id, (width, height, ships) in {**HRSC_IMAGES, 'c': (120, 100, [])}.items():
        quads = rbox_to_quad(np.array([s[0] for s in ships]).reshape(-1, 5))
        masks = rasterize_quads(quads, (height, width))
        objects = []
        for (rbox, color), quad in zip(ships, quads):
            xs, ys = quad[0::2], quad[1::2]
            fields = dict(box_xmin=xs.min(), box_ymin=ys.min(), box_xmax=xs.max(),
                          box_ymax=ys.max(), mbox_cx=rbox[0], mbox_cy=rbox[1], mbox_w=rbox[2],
                          mbox_h=rbox[3], mbox_ang=rbox[4])
            obj = template[start:end]
            for key, value in fields.items():
                obj = re.sub(f'<{key}>[^<]*</{key}>', f'<{key}>{value:.4f}</{key}>', obj)
            seg = '' if color is None else ','.join(map(str, color))
            objects.append(re.sub(r'<seg_color>\s*</seg_color>',
                                  f'<seg_color>{seg}</seg_color>', obj))
        text = template[:start] + ''.join(objects) + template[end:]
        text = text.replace('<Img_SizeWidth>1172', f'<Img_SizeWidth>{width}')
        text = text.replace('<Img_SizeHeight>816', f'<Img_SizeHeight>{height}')
        if ships:
            text = text.replace('<segmented>0</segmented>\n  <Img_Havemask>',
                                '<segmented>1</segmented>\n  <Img_Havemask>')
            seg_png = np.zeros((height, width, 3), dtype=np.uint8)
            for mask, (_, color) in zip(masks, ships):
                if color is not None:
                    seg_png[mask] = color
            Image.fromarray(seg_png).save(full / 'Segmentations' / f'{img_id}.png')
        (full / 'Annotations' / f'{img_id}.xml').write_text(text)
        Image.fromarray(_ship_image(rng, (height, width), masks)).save(
            full / 'AllImages' / f'{img_id}.bmp')
    (root / 'ImageSets').mkdir()
    (root / 'ImageSets' / 'test.txt').write_text('a\nb\nc\n')
    return root


#: iSAID colours of three classes, and one colour of no class.
SHIP, PLANE, SMALL_VEHICLE, NO_CLASS = (0, 0, 63), (0, 127, 255), (0, 0, 127), (9, 9, 9)
#: Instances per image: (instance id, class colour, R-Box); ids use all three channels,
#: instance 5 has a colour of no class.
ISAID_IMAGES = {
    'P0001': (160, 128, [(1, SHIP, (50., 40., 60., 16., 0.4)),
                         (300, PLANE, (110., 85., 50., 44., 0.)),
                         (70000, SMALL_VEHICLE, (30., 100., 12., 8., 0.)),
                         (5, NO_CLASS, (140., 20., 10., 10., 0.))]),
    'P0002': (144, 120, [(2, SHIP, (70., 60., 80., 20., -0.8))]),
}


def id_to_rgb(instance_id: int) -> Tuple[int, int, int]:
    """The RGB colour encoding an iSAID instance id (``R + 256 * G + 65536 * B``)."""
    return instance_id & 255, (instance_id >> 8) & 255, (instance_id >> 16) & 255


def write_isaid(root: Path, images=None) -> Dict[str, Dict[int, np.ndarray]]:
    """The official iSAID layout of ``images`` (default :data:`ISAID_IMAGES`) under
    ``root``; returns each image's full masks by instance id."""
    images = ISAID_IMAGES if images is None else images
    for sub in ('images', 'Instance_masks/images', 'Semantic_masks/images'):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(1)
    masks_by_image = {}
    for img_id, (width, height, instances) in images.items():
        quads = rbox_to_quad(np.array([i[2] for i in instances]).reshape(-1, 5))
        masks = rasterize_quads(quads, (height, width))
        ids = np.zeros((height, width, 3), dtype=np.uint8)
        sem = np.zeros((height, width, 3), dtype=np.uint8)
        for mask, (instance_id, color, _) in zip(masks, instances):
            ids[mask] = id_to_rgb(instance_id)
            sem[mask] = color
        Image.fromarray(ids).save(root / 'Instance_masks/images' / f'{img_id}_instance_id_RGB.png')
        Image.fromarray(sem).save(
            root / 'Semantic_masks/images' / f'{img_id}_instance_color_RGB.png')
        Image.fromarray(_ship_image(rng, (height, width), masks)).save(
            root / 'images' / f'{img_id}.png')
        masks_by_image[img_id] = {i[0]: m for i, m in zip(instances, masks)}
    return masks_by_image
