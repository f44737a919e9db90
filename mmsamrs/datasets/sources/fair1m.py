"""FAIR1M 2.0 XML reader, fine-grained classes mapped onto FAST."""
from typing import Any, Dict, List

from mmsamrs.datasets.class_names import FAST_CLASSES, make_palette
from mmsamrs.registry import DATASETS
from .parsing import build_name_map, parse_xml, to_float, xml_size, xml_text
from .problems import AnnotationError
from .source_dataset import ParsedFile, RawObject, SourceDataset

# FAIR1M writes most names with spaces ('Small Car', 'Dry Cargo Ship'), which normalise
# to the hyphenated FAST names; the Boeing models also appear with a space.
FAIR1M_SPELLINGS = {name: () for name in FAST_CLASSES}
FAIR1M_SPELLINGS.update({
    'Boeing737': ('Boeing 737', ),
    'Boeing747': ('Boeing 747', ),
    'Boeing777': ('Boeing 777', ),
    'Boeing787': ('Boeing 787', ),
})


@DATASETS.register_module()
class FAIR1MDataset(SourceDataset):
    """FAIR1M 2.0 XML annotations as FAST instances.

    Each ``objects/object`` has ``possibleresult/name`` and ``points/point`` ``"x,y"``
    items: 5 points whose last repeats the first (4 points are accepted too; any other
    count is ``bad_fields``). The first 4 points are the ``qbox``; ``rbox`` is their
    minimum-area rectangle and the H-Box their min/max. Image size comes from
    ``<size>``. Names map explicitly onto FAST (``Boeing 737``/``Boeing737`` ->
    ``Boeing737``, ``Small Car``/``Small-Car`` -> ``Small-Car`` ...). FAIR1M has no
    difficult flag (0).

    Layout: one split of the official FAIR1M 2.0 release as ``data_root``: ``images/`` and
    ``labelXml/`` (``validation/``, or patches written by the splitter), or the ``part1/``,
    ``part2/`` ... folders of ``train/``, each with ``images/`` and ``labelXml/`` (all parts
    are read; an id found in two parts is ``duplicate_id``). A ``data_prefix`` key that is
    given replaces the search for that key.

    Config: ``dataset=dict(type='FAIR1MDataset', data_root='data/FAIR1M/train')``.

    Args:
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`.
    """

    SOURCE = 'fair1m'
    METAINFO = dict(classes=FAST_CLASSES, palette=make_palette(len(FAST_CLASSES)),
                    source=SOURCE)
    NAME_MAP = build_name_map(FAIR1M_SPELLINGS)
    DEFAULT_PREFIX = dict(img_path='images', ann_path='labelXml')
    PREFIX_CANDIDATES = dict(
        img_path=('images', ) + tuple(f'part{i}/images' for i in range(1, 10)),
        ann_path=('labelXml', ) + tuple(f'part{i}/labelXml' for i in range(1, 10)))
    READ_ALL_CANDIDATES = ('img_path', 'ann_path')
    IMG_SUFFIXES = ('.tif', '.tiff', '.png', '.jpg')
    ANN_SUFFIX = '.xml'

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Parse the XML: ``<size>`` and the ``objects/object`` elements (from 1)."""
        root = parse_xml(content, 'annotation')
        objects = [RawObject(obj, obj=i)
                   for i, obj in enumerate(root.findall('objects/object'), 1)]
        return ParsedFile(xml_size(root, 'size/width', 'size/height'), objects, {})

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """Parse the name and the polygon of one ``<object>``."""
        points = [(p.text or '').strip() for p in raw.findall('points/point')]
        if len(points) not in (4, 5):
            raise AnnotationError(
                'bad_fields', f'expected 5 <point> (last repeating the first), got {len(points)}')
        qbox: List[float] = []
        for i, point in enumerate(points[:4], 1):
            xy = point.split(',')
            if len(xy) != 2:
                raise AnnotationError('bad_fields', f'point {i}: expected "x,y", got {point!r}')
            qbox += [to_float(v, f'point {i}') for v in xy]
        return dict(class_name=xml_text(raw, 'possibleresult/name'), difficult=0, qbox=qbox)
