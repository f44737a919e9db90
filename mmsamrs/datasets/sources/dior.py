"""DIOR (VOC ``bndbox`` XML) and DIOR-R (``robndbox`` XML) reader, classes mapped onto SIOR."""
from typing import Any, Dict

from mmsamrs.datasets.class_names import SIOR_CLASSES, make_palette
from mmsamrs.registry import DATASETS

from .parsing import build_name_map, xml_floats
from .problems import AnnotationError
from .voc import HBOX_FIELDS, VOCDataset

RBOX_FIELDS = tuple(f'robndbox/{axis}_{corner}'
                    for corner in ('left_top', 'right_top', 'right_bottom', 'left_bottom')
                    for axis in ('x', 'y'))
BOX_TYPES = ('auto', 'hbox', 'rbox')
HBOX_DIR = 'Annotations/Horizontal Bounding Boxes'
RBOX_DIR = 'Annotations/Oriented Bounding Boxes'
#: Annotation folders of the official DIOR / DIOR-R releases tried per ``box_type``
#: (the first that exists is read).
ANN_DIRS = {'hbox': (HBOX_DIR, ), 'rbox': (RBOX_DIR, ), 'auto': (HBOX_DIR, RBOX_DIR)}
#: Image folders of the official release (trainval and test apart) or one merged folder.
IMG_DIRS = ('JPEGImages-trainval', 'JPEGImages-test', 'JPEGImages')

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
class DIORDataset(VOCDataset):
    """DIOR / DIOR-R XML annotations as SIOR instances (a :class:`VOCDataset`).

    ``box_type`` picks the box of each ``<object>``: ``'hbox'`` reads the VOC
    ``bndbox`` (H-Box only), ``'rbox'`` the DIOR-R ``robndbox`` corners
    (``x_left_top .. y_left_bottom``; ``qbox``/``rbox`` and the H-Box of the corners),
    ``'auto'`` (default) whichever the object has (both when it has both: the given
    ``bndbox`` as H-Box, ``robndbox`` as ``qbox``/``rbox``). Coordinates are kept as
    written (no VOC 1-based shift). Image size comes from ``<size>``. Class names are
    matched case-insensitively through an explicit map (e.g. ``Expressway-Service-area``
    -> ``expressway-service-area``, ``golf field`` -> ``golffield``).

    Layout: the official release under ``data_root``, found without any ``data_prefix``:
    images in ``JPEGImages-trainval/`` and ``JPEGImages-test/`` (both searched) or in one
    ``JPEGImages/``; annotations in the first existing folder of ``ANN_DIRS[box_type]``
    (``'hbox'``: ``Annotations/Horizontal Bounding Boxes``; ``'rbox'``:
    ``Annotations/Oriented Bounding Boxes``; ``'auto'``: horizontal, else oriented);
    splits in ``ImageSets/Main/{train,val,trainval,test}.txt``. A ``data_prefix`` key
    that is given replaces the search for that key (e.g. ``ann_path='Annotations'`` for
    a copy with all XML files in one folder).

    Config: ``dataset=dict(type='DIORDataset', data_root='data/DIOR',
    ann_file='ImageSets/Main/trainval.txt', box_type='hbox')``.

    Args:
        box_type: ``'auto'``, ``'hbox'`` or ``'rbox'``.
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`.
    """

    SOURCE = 'dior'
    METAINFO = dict(classes=SIOR_CLASSES, palette=make_palette(len(SIOR_CLASSES)),
                    source=SOURCE)
    NAME_MAP = build_name_map(DIOR_SPELLINGS)
    DEFAULT_PREFIX = dict(img_path='JPEGImages', ann_path=ANN_DIRS['auto'][0])
    PREFIX_CANDIDATES = dict(img_path=IMG_DIRS, ann_path=ANN_DIRS['auto'])
    READ_ALL_CANDIDATES = ('img_path', )
    IMG_SUFFIXES = ('.jpg', '.png')
    ANN_SUFFIX = '.xml'

    def __init__(self, box_type: str = 'auto', **kwargs) -> None:
        if box_type not in BOX_TYPES:
            raise ValueError(f'box_type must be one of {BOX_TYPES}, got {box_type!r}')
        self.box_type = box_type
        self.DEFAULT_PREFIX = dict(img_path='JPEGImages', ann_path=ANN_DIRS[box_type][0])
        self.PREFIX_CANDIDATES = dict(img_path=IMG_DIRS, ann_path=ANN_DIRS[box_type])
        super().__init__(**kwargs)

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """Parse one ``<object>`` according to ``box_type``."""
        has_h, has_r = raw.find('bndbox') is not None, raw.find('robndbox') is not None
        use_h = self.box_type == 'hbox' or (self.box_type == 'auto' and has_h)
        use_r = self.box_type == 'rbox' or (self.box_type == 'auto' and has_r)
        if not (use_h or use_r):
            raise AnnotationError('bad_fields', 'object has neither <bndbox> nor <robndbox>')
        obj = self.object_fields(raw)
        if use_h:
            obj['hbox'] = xml_floats(raw, HBOX_FIELDS)
        if use_r:
            obj['qbox'] = xml_floats(raw, RBOX_FIELDS)
        return obj
