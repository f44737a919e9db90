"""DOTA v1.0 / v1.5 / v2.0 ``labelTxt`` reader, classes mapped onto SOTA."""
from typing import Any, Dict, List

from mmsamrs.datasets.class_names import SOTA_CLASSES, make_palette
from mmsamrs.registry import DATASETS

from .parsing import build_name_map, to_flag, to_float
from .problems import AnnotationError
from .source_dataset import ParsedFile, RawObject, SourceDataset

DOTA_V1_CLASSES = (
    'plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle',
    'large-vehicle', 'ship', 'tennis-court', 'basketball-court', 'storage-tank',
    'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter')
DOTA_VERSION_CLASSES = {
    '1.0': DOTA_V1_CLASSES,
    '1.5': DOTA_V1_CLASSES + ('container-crane', ),
    '2.0': DOTA_V1_CLASSES + ('container-crane', 'airport', 'helipad'),
}
HEADER_KEYS = ('imagesource', 'gsd')


@DATASETS.register_module()
class DOTADataset(SourceDataset):
    """DOTA ``labelTxt`` files, one per image, as SOTA instances.

    Each object line is ``x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]``: the difficult
    flag is optional (9 fields read as difficult 0, as in some DOTA releases and
    tools); any other number of fields is ``bad_fields``. Header lines
    ``imagesource:...`` and ``gsd:...`` and blank lines are skipped. Instances carry the
    quad as ``qbox``, its H-Box and its minimum-area ``rbox``. DOTA already spells its
    classes as SOTA does; names are matched case-, space- and underscore-insensitively
    against the classes of ``version`` only (a v2.0 class in a v1.0 file is
    ``unknown_class``).

    Any other class list: DOTA-format files of one's own classes are read with
    ``metainfo=dict(classes=('car', 'tree'))`` (names matched as written, ``class_map``
    for other spellings; ``version`` then only limits DOTA's own class names).

    Config: ``dataset=dict(type='DOTADataset', data_root='data/DOTA/train',
    data_prefix=dict(img_path='images', ann_path='labelTxt'), version='1.0',
    strict=False)``.

    Args:
        version: ``'1.0'``, ``'1.5'`` or ``'2.0'`` (default, the base of SOTA).
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`.
    """

    SOURCE = 'dota'
    METAINFO = dict(classes=SOTA_CLASSES, palette=make_palette(len(SOTA_CLASSES)),
                    source=SOURCE)
    NAME_MAP = build_name_map({name: () for name in SOTA_CLASSES})
    DEFAULT_PREFIX = dict(img_path='images', ann_path='labelTxt')
    IMG_SUFFIXES = ('.png', '.jpg', '.tif', '.bmp')
    ANN_SUFFIX = '.txt'

    def __init__(self, version: str = '2.0', **kwargs) -> None:
        # --cfg-options turns ``version=1.0`` into a float: accept it as written
        version = str(version)
        if version not in DOTA_VERSION_CLASSES:
            raise ValueError(
                f'DOTA version must be one of {sorted(DOTA_VERSION_CLASSES)}, got {version!r}')
        self.version = version
        super().__init__(**kwargs)

    @property
    def name_map(self) -> Dict[str, str]:
        """The spellings of the classes that DOTA ``version`` has."""
        allowed = DOTA_VERSION_CLASSES[self.version]
        return {k: v for k, v in self.NAME_MAP.items() if v in allowed}

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Split the file into object lines (1-based line numbers) and header values.

        Header lines (``imagesource:...``, ``gsd:...``) become ``data_info`` keys of the
        same names (text as written), so the splitter can write them into the patches.
        A leading UTF-8 byte-order mark is ignored.
        """
        objects: List[RawObject] = []
        headers: Dict[str, str] = {}
        for number, line in enumerate(content.decode('utf-8-sig', 'replace').splitlines(), 1):
            fields = line.split()
            key, _, value = line.strip().partition(':')
            if fields and key.lower() in HEADER_KEYS:
                headers[key.lower()] = value.strip()
            elif fields:
                objects.append(RawObject(fields, line=number))
        return ParsedFile(None, objects, headers)

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """Parse the fields of one object line."""
        if len(raw) not in (9, 10):
            raise AnnotationError(
                'bad_fields', f'expected 9 or 10 fields (x1 y1 x2 y2 x3 y3 x4 y4 class '
                f'[difficult]), got {len(raw)}: {" ".join(raw)!r}')
        qbox = [to_float(v, f'coordinate {i + 1}') for i, v in enumerate(raw[:8])]
        difficult = to_flag(raw[9]) if len(raw) == 10 else 0
        return dict(class_name=raw[8], difficult=difficult, qbox=qbox)
