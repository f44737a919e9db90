"""iSAID-style instance masks as a detection source: boxes derived from the masks.

iSAID (and any data laid out like it) gives, per image, an RGB *instance-id* PNG where the
instance id of a pixel is ``R + 256 * G + 65536 * B`` (0: background) and an RGB
*semantic* PNG that paints each pixel in its class colour. The reader turns every
instance into a detection object, so the generation pipeline and the prompt study
(paper Table 1) run on it as on any other source.
"""
import io
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from mmsamrs.registry import DATASETS
from .parsing import build_name_map
from .problems import AnnotationError
from .source_dataset import ParsedFile, RawObject, SourceDataset

#: iSAID's 15 classes (mmsegmentation's spelling, background left out).
ISAID_CLASSES: Tuple[str, ...] = (
    'ship', 'store_tank', 'baseball_diamond', 'tennis_court', 'basketball_court',
    'Ground_Track_Field', 'Bridge', 'Large_Vehicle', 'Small_Vehicle', 'Helicopter',
    'Swimming_pool', 'Roundabout', 'Soccer_ball_field', 'plane', 'Harbor')
#: Colour of each class in iSAID's ``*_instance_color_RGB.png`` (the official palette).
ISAID_COLORS: List[List[int]] = [
    [0, 0, 63], [0, 63, 63], [0, 63, 0], [0, 63, 127], [0, 63, 191], [0, 63, 255],
    [0, 127, 63], [0, 127, 127], [0, 0, 127], [0, 0, 191], [0, 0, 255], [0, 191, 127],
    [0, 127, 191], [0, 127, 255], [0, 100, 155]]


def rgb_codes(rgb: np.ndarray) -> np.ndarray:
    """``R + 256 * G + 65536 * B`` of an ``(..., 3)`` array, as int64."""
    rgb = np.asarray(rgb, dtype=np.int64)
    return rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16)


def read_rgb_codes(source: Any) -> np.ndarray:
    """Decode an RGB PNG (a path or a file object) into its ``(H, W)`` codes (:func:`rgb_codes`)."""
    with Image.open(source) as img:
        return rgb_codes(np.asarray(img.convert('RGB')))


def code_crops(codes: np.ndarray,
               wanted: Sequence[Optional[int]]) -> Tuple[List[np.ndarray], np.ndarray]:
    """Tight boolean crops of the pixels equal to each wanted code, and their offsets.

    Returns ``(crops, offsets)``: ``crops[i]`` is the mask of ``codes == wanted[i]``
    inside its bounding window (``0 x 0`` when the code is absent or None) and ``offsets[i]``
    its ``(x0, y0)`` (int64 ``(N, 2)``). One pass over the map for all codes, so the cost
    does not grow with the number of instances.
    """
    present, inverse = np.unique(codes, return_inverse=True)
    inverse = inverse.reshape(codes.shape).astype(np.int32) + 1
    windows = ndimage.find_objects(inverse)
    index = {int(code): k for k, code in enumerate(present)}
    crops: List[np.ndarray] = []
    offsets = np.zeros((len(wanted), 2), dtype=np.int64)
    for i, code in enumerate(wanted):
        k = None if code is None else index.get(int(code))
        if k is None:
            crops.append(np.zeros((0, 0), dtype=bool))
            continue
        rows, cols = windows[k]
        crops.append(inverse[rows, cols] == k + 1)
        offsets[i] = (cols.start, rows.start)
    return crops, offsets


def mask_boxes(crop: np.ndarray, offset: Sequence[int]) -> Tuple[List[float], List[float]]:
    """H-Box ``[x1, y1, x2, y2]`` and minimum-area rotated quad (8 numbers) of a mask crop.

    Both in pixel-edge coordinates (pixel ``(x, y)`` covers ``[x, x + 1) x [y, y + 1)``):
    the H-Box is the mask's extent, the quad is ``cv2.minAreaRect`` of the boundary pixel
    centres grown by half a pixel on every side, so an axis-aligned rectangle of pixels
    gives back its H-Box corners.
    """
    x0, y0 = int(offset[0]), int(offset[1])
    height, width = crop.shape
    contours, _ = cv2.findContours(crop.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    points = np.concatenate(contours).reshape(-1, 2).astype(np.float32)
    (cx, cy), (w, h), angle = cv2.minAreaRect(points)
    quad = cv2.boxPoints(((cx + x0 + 0.5, cy + y0 + 0.5), (w + 1, h + 1), angle))
    return [float(x0), float(y0), float(x0 + width), float(y0 + height)], \
        [float(v) for v in quad.reshape(-1)]


@DATASETS.register_module()
class ISAIDInstanceDataset(SourceDataset):
    """iSAID-style data (instance-id PNG + semantic PNG per image) as a detection source.

    Per image ``<id>``: the image ``<img_path>/<id>.png``, the instance-id PNG
    ``<ann_path>/<id>_instance_id_RGB.png`` (id ``R + 256 * G + 65536 * B``, 0 =
    background) and the semantic PNG ``<sem_path>/<id>_instance_color_RGB.png``. Every
    non-zero id is one instance with

    * ``bbox``: the H-Box of its mask (pixel extent), ``qbox``/``rbox``: its
      minimum-area rotated rectangle (:func:`mask_boxes`), so all prompts of Table 1
      exist;
    * ``bbox_label``: the class whose colour covers most of its pixels in the semantic
      PNG; class ``i`` has colour ``metainfo['palette'][i]`` (iSAID's official colours by
      default). An instance whose pixels are all background or of an unknown colour is
      an ``unknown_class`` problem;
    * ``instance_id``: its id; the image gets ``seg_map_path`` (the instance-id PNG), so
      ``LoadInstanceMasks`` can load the ground-truth masks.

    Masks are decoded once when the dataset is built (to derive the boxes) and again by
    ``LoadInstanceMasks`` in the data workers. Default layout (the official release)::

        data/iSAID/val/images/P0003.png
        data/iSAID/val/Instance_masks/images/P0003_instance_id_RGB.png
        data/iSAID/val/Semantic_masks/images/P0003_instance_color_RGB.png

    Config (prompt study)::

        dataset=dict(type='ISAIDInstanceDataset', data_root='data/iSAID/val')

    Own data with other classes: set ``metainfo=dict(classes=(...), palette=[...])``,
    the palette being the class colours of the semantic PNGs.

    Args:
        sem_suffix: file-name ending of the semantic PNGs.
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`.
    """

    SOURCE = 'isaid'
    METAINFO = dict(classes=ISAID_CLASSES, palette=ISAID_COLORS, source=SOURCE)
    DEFAULT_PREFIX = dict(img_path='images', ann_path='Instance_masks/images',
                          sem_path='Semantic_masks/images')
    REQUIRED_PREFIXES = ('img_path', 'ann_path', 'sem_path')
    IMG_SUFFIXES = ('.png', )
    ANN_SUFFIX = '_instance_id_RGB.png'

    def __init__(self, sem_suffix: str = '_instance_color_RGB.png', **kwargs) -> None:
        self.sem_suffix = sem_suffix
        super().__init__(**kwargs)

    @property
    def name_map(self) -> Dict[str, str]:
        """Each class of ``metainfo['classes']`` is its own (only) spelling."""
        return build_name_map({name: () for name in self._metainfo['classes']})

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Decode both PNGs: one raw object per instance id (crop, offset, class colour)."""
        sem_path = osp.join(self.data_prefix['sem_path'], img_id + self.sem_suffix)
        if not osp.isfile(sem_path):
            raise AnnotationError('missing_annotation',
                                  f'no semantic PNG {sem_path!r} for image id {img_id!r}')
        try:
            ids = read_rgb_codes(io.BytesIO(content))
            classes = read_rgb_codes(sem_path)
        except (OSError, ValueError) as err:
            raise AnnotationError('bad_image', f'cannot decode the masks of {img_id!r}: {err}')
        if classes.shape != ids.shape:
            raise AnnotationError(
                'bad_image', f'semantic PNG {sem_path!r} is {classes.shape[::-1]} (WxH), '
                f'the instance-id PNG {ids.shape[::-1]}')
        instance_ids = [int(i) for i in np.unique(ids) if i != 0]
        crops, offsets = code_crops(ids, instance_ids)
        names = {int(rgb_codes(color)): name for name, color in
                 zip(self._metainfo['classes'], self._metainfo['palette'])}
        objects = []
        for k, (instance_id, crop, (x0, y0)) in enumerate(zip(instance_ids, crops, offsets)):
            colors = classes[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]][crop]
            values, counts = np.unique(colors[colors != 0], return_counts=True)
            color = int(values[counts.argmax()]) if values.size else 0
            objects.append(RawObject(
                dict(instance_id=instance_id, crop=crop, offset=(x0, y0), color=color,
                     class_name=names.get(color)), obj=k + 1))
        height, width = ids.shape
        return ParsedFile((width, height), objects, dict(seg_map_path=osp.join(
            self.data_prefix['ann_path'], img_id + self.ANN_SUFFIX)))

    def parse_object(self, raw: Dict[str, Any]) -> Dict[str, Any]:
        """Boxes from the instance's mask, class from its majority colour."""
        if raw['class_name'] is None:
            rgb = [(raw['color'] >> shift) & 255 for shift in (0, 8, 16)]
            raise AnnotationError(
                'unknown_class', f'instance id {raw["instance_id"]}: its semantic colour '
                f'{rgb} is no class colour of metainfo["palette"]')
        hbox, qbox = mask_boxes(raw['crop'], raw['offset'])
        return dict(class_name=raw['class_name'], hbox=hbox, qbox=qbox,
                    instance_id=raw['instance_id'])
