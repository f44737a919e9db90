"""DIOR (VOC ``bndbox`` XML) and DIOR-R (``robndbox`` XML) reader, classes mapped onto SIOR."""
from typing import Any, Dict

from mmsamrs.datasets.class_names import SIOR_CLASSES, make_palette
from mmsamrs.registry import DATASETS
from .base import (AnnotationError, ParsedFile, RawObject, SourceDataset, build_name_map,
                   parse_xml, to_flag, xml_floats, xml_optional, xml_size, xml_text)

HBOX_FIELDS = ('bndbox/xmin', 'bndbox/ymin', 'bndbox/xmax', 'bndbox/ymax')
RBOX_FIELDS = tuple(f'robndbox/{axis}_{corner}'
                    for corner in ('left_top', 'right_top', 'right_bottom', 'left_bottom')
                    for axis in ('x', 'y'))
BOX_TYPES = ('auto', 'hbox', 'rbox')

# Spellings met in DIOR/DIOR-R files and common copies of them (after normalisation
# case, spaces, '_' and '-' do not matter; 'Expressway-Service-area' is covered).
DIOR_SPELLINGS = {name: () for name in SIOR_CLASSES}
DIOR_SPELLINGS.update({
    'baseballfield': ('baseball field', ),
    'basketballcourt': ('basketball court', ),
    'golffield': ('golf field', ),
    'groundtrackfield': ('ground track field', ),
    'storagetank': ('storage tank', ),
    'tenniscourt': ('tennis court', ),
    'trainstation': ('train station', ),
})


@DATASETS.register_module()
class DIORDataset(SourceDataset):
    """DIOR / DIOR-R XML annotations as SIOR instances.

    ``box_type`` picks the box of each ``<object>``: ``'hbox'`` reads the VOC
    ``bndbox`` (H-Box only), ``'rbox'`` the DIOR-R ``robndbox`` corners
    (``x_left_top .. y_left_bottom``; ``qbox``/``rbox`` and the H-Box of the corners),
    ``'auto'`` (default) whichever the object has (both when it has both: the given
    ``bndbox`` as H-Box, ``robndbox`` as ``qbox``/``rbox``). Coordinates are kept as
    written (no VOC 1-based shift). Image size comes from ``<size>``. Class names are
    matched case-insensitively through an explicit map (e.g. ``Expressway-Service-area``
    -> ``expressway-service-area``, ``golf field`` -> ``golffield``).

    Config: ``dataset=dict(type='DIORDataset', data_root='data/DIOR',
    ann_file='ImageSets/Main/trainval.txt', data_prefix=dict(img_path='JPEGImages',
    ann_path='Annotations/Horizontal Bounding Boxes'), box_type='hbox')``.

    Args:
        box_type: ``'auto'``, ``'hbox'`` or ``'rbox'``.
        **kwargs: see :class:`~mmsamrs.datasets.sources.base.SourceDataset`.
    """

    SOURCE = 'dior'
    METAINFO = dict(classes=SIOR_CLASSES, palette=make_palette(len(SIOR_CLASSES)),
                    source=SOURCE)
    NAME_MAP = build_name_map(DIOR_SPELLINGS)
    DEFAULT_PREFIX = dict(img_path='JPEGImages', ann_path='Annotations/Oriented Bounding Boxes')
    IMG_SUFFIXES = ('.jpg', '.png')
    ANN_SUFFIX = '.xml'

    def __init__(self, box_type: str = 'auto', **kwargs) -> None:
        if box_type not in BOX_TYPES:
            raise ValueError(f'box_type must be one of {BOX_TYPES}, got {box_type!r}')
        self.box_type = box_type
        super().__init__(**kwargs)

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Parse the XML: ``<size>`` and the ``<object>`` elements (numbered from 1)."""
        root = parse_xml(content, 'annotation')
        objects = [RawObject(obj, obj=i) for i, obj in enumerate(root.findall('object'), 1)]
        return ParsedFile(xml_size(root, 'size/width', 'size/height'), objects, {})

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """Parse one ``<object>`` according to ``box_type``."""
        has_h, has_r = raw.find('bndbox') is not None, raw.find('robndbox') is not None
        use_h = self.box_type == 'hbox' or (self.box_type == 'auto' and has_h)
        use_r = self.box_type == 'rbox' or (self.box_type == 'auto' and has_r)
        if not (use_h or use_r):
            raise AnnotationError('bad_fields', 'object has neither <bndbox> nor <robndbox>')
        obj: Dict[str, Any] = dict(class_name=xml_text(raw, 'name'),
                                   difficult=to_flag(xml_optional(raw, 'difficult') or '0'))
        if use_h:
            obj['hbox'] = xml_floats(raw, HBOX_FIELDS)
        if use_r:
            obj['qbox'] = xml_floats(raw, RBOX_FIELDS)
        return obj
