"""Pascal VOC XML reader with a class list of one's own (DIOR is one instance of it)."""
from typing import Any, Dict

from mmsamrs.registry import DATASETS

from .parsing import parse_xml, to_flag, xml_floats, xml_optional, xml_size, xml_text
from .source_dataset import ParsedFile, RawObject, SourceDataset

HBOX_FIELDS = ('bndbox/xmin', 'bndbox/ymin', 'bndbox/xmax', 'bndbox/ymax')


@DATASETS.register_module()
class VOCDataset(SourceDataset):
    """Pascal VOC ``<annotation>`` XML files, one per image, with the config's classes.

    Each ``<object>`` gives ``<name>``, an optional ``<difficult>`` flag and the H-Box
    ``bndbox/xmin .. ymax``, kept as written (no 1-based shift, as DIOR). The image size
    comes from ``<size>`` (else the image header). Names match the classes of
    ``metainfo`` case-, space- and underscore-insensitively; ``class_map`` maps other
    names (see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`). An object
    without ``<name>`` or with a missing ``bndbox`` field is ``bad_fields``, reported with
    the file and the object number (from 1).

    Layout (the VOC release, e.g. ``VOCdevkit/VOC2012``): ``JPEGImages/``,
    ``Annotations/`` and split files ``ImageSets/Main/<split>.txt`` (``ann_file``;
    without one every XML file is read).

    Config: ``dataset=dict(type='VOCDataset', data_root='data/VOC2012',
    ann_file='ImageSets/Main/trainval.txt', metainfo=dict(classes=('car', 'person')))``.

    Args:
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`;
            ``metainfo=dict(classes=...)`` is required.
    """

    SOURCE = 'voc'
    METAINFO = dict(source=SOURCE)
    DEFAULT_PREFIX = dict(img_path='JPEGImages', ann_path='Annotations')
    IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp')
    ANN_SUFFIX = '.xml'

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Parse the XML: ``<size>`` and the ``<object>`` elements (numbered from 1)."""
        root = parse_xml(content, 'annotation')
        objects = [RawObject(obj, obj=i) for i, obj in enumerate(root.findall('object'), 1)]
        return ParsedFile(xml_size(root, 'size/width', 'size/height'), objects, {})

    def object_fields(self, raw: Any) -> Dict[str, Any]:
        """The ``class_name`` and ``difficult`` flag of one ``<object>``."""
        return dict(class_name=xml_text(raw, 'name'),
                    difficult=to_flag(xml_optional(raw, 'difficult') or '0'))

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """Parse one ``<object>``: name, difficult flag and ``bndbox``."""
        return dict(self.object_fields(raw), hbox=xml_floats(raw, HBOX_FIELDS))
