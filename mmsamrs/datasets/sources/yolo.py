"""YOLO (``cls cx cy w h``) and YOLO-OBB (``cls x1 y1 .. x4 y4``) text labels, normalised
to the image size, with a class list of one's own."""
import os.path as osp
from typing import Any, Dict, List

import yaml

from mmsamrs.registry import DATASETS

from .parsing import to_float
from .problems import AnnotationError
from .source_dataset import ParsedFile, RawObject, SourceDataset

#: Normalised coordinates must lie in ``[-1, 2]`` (one image side beyond the edges, the
#: ``far_outside`` tolerance); a larger value is most likely a pixel coordinate.
NORMALISED_RANGE = (-1.0, 2.0)


def read_class_file(path: str) -> List[str]:
    """The class names of a YOLO class file, index = position.

    ``.yaml``/``.yml``: an Ultralytics dataset file, whose ``names`` is a list or a dict
    ``{0: name, 1: name, ...}``; any other suffix: one name per line (``classes.txt``,
    ``obj.names``), trailing blank lines ignored.

    Raises:
        ValueError: no names, a blank line among the names, or ``names`` not a list of
            names nor a dict with the keys ``0 .. n-1``; the message names the file.
    """
    with open(path, encoding='utf-8-sig') as f:
        text = f.read()
    if path.endswith(('.yaml', '.yml')):
        names = (yaml.safe_load(text) or {}).get('names')
        if isinstance(names, dict) and sorted(names) == list(range(len(names))):
            names = [names[i] for i in range(len(names))]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: expected 'names' as a list of class names or a dict "
                             f'{{0: name, 1: name, ...}}, got {names!r}')
    else:
        names = [line.strip() for line in text.rstrip().splitlines()]
        blank = [number for number, name in enumerate(names, 1) if not name]
        if blank:
            raise ValueError(f'{path}, line {blank[0]}: blank line among the class names '
                             '(expected one class name per line; the line number is the '
                             'class index + 1)')
    if not names:
        raise ValueError(f'{path}: no class names')
    return names


@DATASETS.register_module()
class YOLODataset(SourceDataset):
    """YOLO detection labels: one ``.txt`` per image, a line ``cls cx cy w h`` per object.

    ``cls`` is an index into the class list; ``cx cy w h`` are the box centre and size
    divided by the image width and height (the image size is read from its header).
    The class list is ``class_file`` (``classes.txt`` / ``obj.names``, one name per line,
    or an Ultralytics ``data.yaml`` with ``names``) or, without one, ``metainfo['classes']``.
    The output classes are ``metainfo['classes']`` when given (the file's names are then
    matched onto them by name, see ``class_map``), else the file's names. A line with
    another number of fields is ``bad_fields``, a ``cls`` that is not an index of the list
    ``unknown_class``, a coordinate outside ``[-1, 2]`` (a pixel coordinate?)
    ``far_outside``, each named with the file and line. An empty label file is an image
    without objects (YOLO's background images; ``allow_empty=True`` keeps them quietly);
    an image without a label file is not read.

    Layout: ``images/`` and ``labels/`` with the same stems (Ultralytics' split folders:
    ``data_prefix=dict(img_path='images/train', ann_path='labels/train')``).

    Config: ``dataset=dict(type='YOLODataset', data_root='data/my_yolo',
    class_file='classes.txt')``.

    Args:
        class_file: the class list, relative to ``data_root`` (or absolute); ``''``: use
            ``metainfo['classes']``.
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`.
    """

    SOURCE = 'yolo'
    METAINFO = dict(source=SOURCE)
    DEFAULT_PREFIX = dict(img_path='images', ann_path='labels')
    IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp')
    ANN_SUFFIX = '.txt'
    #: The fields after ``cls`` and how a line reads, for the messages.
    NUM_COORDS = 4
    LINE_FORMAT = 'cls cx cy w h'

    def __init__(self, class_file: str = '', **kwargs) -> None:
        self.class_file = class_file
        self.source_names: List[str] = []
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the class list (see the class docstring), then every label file."""
        if self.class_file:
            self.source_names = read_class_file(osp.join(self.data_root, self.class_file))
            self.take_source_classes(self.source_names)
        else:
            self.source_names = list(self._metainfo.get('classes') or ())
        return super().load_data_list()

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Split the file into object lines (1-based line numbers; a BOM is ignored)."""
        lines = content.decode('utf-8-sig', 'replace').splitlines()
        return ParsedFile(None, [RawObject(line.split(), line=number)
                                 for number, line in enumerate(lines, 1) if line.split()],
                          {})

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """The class name and the normalised coordinates (``norm``) of one line."""
        if len(raw) != 1 + self.NUM_COORDS:
            raise AnnotationError(
                'bad_fields', f'expected {1 + self.NUM_COORDS} fields ({self.LINE_FORMAT}), '
                f'got {len(raw)}: {" ".join(raw)!r}')
        coords = [to_float(v, f'field {i}') for i, v in enumerate(raw[1:], 2)]
        low, high = NORMALISED_RANGE
        if not all(low <= v <= high for v in coords):
            raise AnnotationError(
                'far_outside', f'coordinates {raw[1:]} are not normalised: expected values '
                'in [0, 1] (coordinate / image side), up to one image side beyond the edges')
        return dict(class_name=self.source_name(raw[0]), norm=coords)

    def source_name(self, text: str) -> str:
        """The class name of the index ``text``; ``unknown_class`` when there is none."""
        try:
            index = float(text)
        except ValueError:
            index = -1.0
        if not index.is_integer() or not 0 <= index < len(self.source_names):
            where = f' ({self.class_file})' if self.class_file else " (metainfo['classes'])"
            raise AnnotationError(
                'unknown_class', f'class index {text!r}: expected an integer in '
                f'0..{len(self.source_names) - 1}, the {len(self.source_names)} classes'
                f'{where}')
        return self.source_names[int(index)]

    def make_instance(self, obj: Dict[str, Any], width: int, height: int) -> dict:
        """Scale the normalised box to pixels, then as every reader."""
        obj = dict(obj)
        obj.update(self.to_pixels(obj.pop('norm'), width, height))
        return super().make_instance(obj, width, height)

    @staticmethod
    def to_pixels(norm: List[float], width: int, height: int) -> Dict[str, List[float]]:
        """``hbox`` in pixels of a normalised ``cx cy w h``."""
        cx, cy, w, h = norm[0] * width, norm[1] * height, norm[2] * width, norm[3] * height
        return dict(hbox=[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


@DATASETS.register_module()
class YOLOOBBDataset(YOLODataset):
    """YOLO-OBB labels (Ultralytics' oriented boxes): a line ``cls x1 y1 x2 y2 x3 y3 x4 y4``
    per object, the 4 corners divided by the image width and height.

    Instances carry the corners as ``qbox``, their minimum-area ``rbox`` and their H-Box.
    Everything else (class list, layout, bad input) is as :class:`YOLODataset`.

    Config: ``dataset=dict(type='YOLOOBBDataset', data_root='data/my_yolo_obb',
    class_file='data.yaml')``.
    """

    SOURCE = 'yolo-obb'
    METAINFO = dict(source=SOURCE)
    NUM_COORDS = 8
    LINE_FORMAT = 'cls x1 y1 x2 y2 x3 y3 x4 y4'

    @staticmethod
    def to_pixels(norm: List[float], width: int, height: int) -> Dict[str, List[float]]:
        """``qbox`` in pixels of normalised corners."""
        return dict(qbox=[v * (width if i % 2 == 0 else height) for i, v in enumerate(norm)])
