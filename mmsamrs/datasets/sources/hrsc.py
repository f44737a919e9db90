"""HRSC2016 XML reader (H-Box, R-Box in radians, ground-truth masks via ``seg_color``)."""
import os.path as osp
import re
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmsamrs.datasets.class_names import HRSC_CLASSES, make_palette
from mmsamrs.registry import DATASETS
from .parsing import build_name_map, parse_xml, to_flag, xml_floats, xml_optional, xml_size
from .problems import AnnotationError
from .source_dataset import ParsedFile, RawObject, SourceDataset, check_image_id

HBOX_FIELDS = ('box_xmin', 'box_ymin', 'box_xmax', 'box_ymax')
RBOX_FIELDS = ('mbox_cx', 'mbox_cy', 'mbox_w', 'mbox_h', 'mbox_ang')
Color = Tuple[int, int, int]


def parse_seg_color(text: str) -> Optional[Color]:
    """Parse HRSC's ``seg_color`` text ``"r,g,b"``; None when empty."""
    if not text:
        return None
    parts = [p for p in re.split(r'[,\s]+', text) if p]
    if len(parts) != 3 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise AnnotationError(
            'bad_number', f'<seg_color>: expected "r,g,b" with values 0-255, got {text!r}')
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def load_hrsc_instance_masks(seg_map_path: str,
                             colors: Sequence[Optional[Color]]) -> np.ndarray:
    """Decode the instance masks of an HRSC segmentation image, shape ``(N, H, W)`` bool.

    Pixel ``p`` belongs to instance ``i`` when its RGB value equals ``colors[i]`` (the
    instance's ``seg_color``); an instance whose colour is None gets an empty mask.
    """
    with Image.open(seg_map_path) as img:
        rgb = np.asarray(img.convert('RGB'), dtype=np.int32)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    masks = np.zeros((len(colors), *codes.shape), dtype=bool)
    for mask, color in zip(masks, colors):
        if color is not None:
            mask[...] = codes == ((color[0] << 16) | (color[1] << 8) | color[2])
    return masks


@DATASETS.register_module()
class HRSCDataset(SourceDataset):
    """HRSC2016 ``HRSC_Image`` XML annotations; every object is ``'ship'`` (label 0).

    Each ``HRSC_Objects/HRSC_Object`` gives the H-Box (``box_xmin .. box_ymax``), the
    R-Box (``mbox_cx, mbox_cy, mbox_w, mbox_h, mbox_ang``, angle in radians, kept as
    ``rbox``; ``qbox`` are its corners), ``difficult`` and ``seg_color`` (``"r,g,b"``,
    kept as the tuple ``seg_color`` or None). An image whose XML says it is segmented
    (``<segmented>1`` or an ``Img_SegFileName``) gets ``seg_map_path``: the file
    ``<Img_SegFileName or id>.<Img_SegFileFmt or png>`` in ``data_prefix['seg_path']``;
    decode it with :func:`load_hrsc_instance_masks`. A segmentation file name with a path
    separator or a leading ``.`` is ``bad_id`` (the image is skipped). (``Img_Havemask``
    refers to the land-sea mask of ``LandMask/``, not to ship masks, and is not used.)
    Image size comes from ``Img_SizeWidth``/``Img_SizeHeight``.

    Config (prompt study, test images with masks): ``dataset=dict(type='HRSCDataset',
    data_root='data/HRSC2016', ann_file='ImageSets/test.txt', masks_only=True)``.

    Args:
        masks_only: keep only images that have a segmentation image.
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`.
    """

    SOURCE = 'hrsc'
    METAINFO = dict(classes=HRSC_CLASSES, palette=make_palette(len(HRSC_CLASSES)),
                    source=SOURCE)
    NAME_MAP = build_name_map({'ship': ()})
    DEFAULT_PREFIX = dict(img_path='FullDataSet/AllImages', ann_path='FullDataSet/Annotations',
                          seg_path='FullDataSet/Segmentations')
    IMG_SUFFIXES = ('.bmp', '.png', '.jpg')
    ANN_SUFFIX = '.xml'

    def __init__(self, masks_only: bool = False, **kwargs) -> None:
        self.masks_only = masks_only
        if masks_only:
            self.REQUIRED_PREFIXES = ('img_path', 'ann_path', 'seg_path')
        super().__init__(**kwargs)

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Parse the XML: size, the objects (numbered from 1) and the segmentation file."""
        root = parse_xml(content, 'HRSC_Image')
        objects = [RawObject(obj, obj=i)
                   for i, obj in enumerate(root.findall('HRSC_Objects/HRSC_Object'), 1)]
        extra = {}
        seg_name = xml_optional(root, 'Img_SegFileName')
        if seg_name or xml_optional(root, 'segmented') == '1':
            fmt = xml_optional(root, 'Img_SegFileFmt').lstrip('.') or 'png'
            seg_file = check_image_id(f'{seg_name or img_id}.{fmt}', 'segmentation file')
            extra['seg_map_path'] = osp.join(self.data_prefix['seg_path'], seg_file)
        return ParsedFile(xml_size(root, 'Img_SizeWidth', 'Img_SizeHeight'), objects, extra)

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """Parse the boxes, difficult flag and ``seg_color`` of one ``HRSC_Object``."""
        return dict(class_name='ship', hbox=xml_floats(raw, HBOX_FIELDS),
                    rbox=xml_floats(raw, RBOX_FIELDS),
                    difficult=to_flag(xml_optional(raw, 'difficult') or '0'),
                    seg_color=parse_seg_color(xml_optional(raw, 'seg_color')))

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Parse one XML; a segmentation file that does not exist is ``missing_mask``."""
        data_info = super().parse_data_info(raw_data_info)
        seg_map_path = data_info.get('seg_map_path')
        if seg_map_path is not None and not osp.isfile(seg_map_path):
            del data_info['seg_map_path']
            self.handle(AnnotationError(
                'missing_mask', f'the XML says the image is segmented but {seg_map_path!r} '
                'does not exist', file=data_info['ann_path']), 'kept image without mask')
        return data_info

    def keep_image(self, data_info: dict) -> bool:
        """With ``masks_only``, keep only images that have ``seg_map_path``."""
        return not self.masks_only or 'seg_map_path' in data_info
