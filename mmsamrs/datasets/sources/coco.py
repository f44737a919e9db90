"""COCO detection JSON reader (through pycocotools), classes from its categories."""
import contextlib
import io
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

from pycocotools.coco import COCO

from mmsamrs.registry import DATASETS

from .parsing import to_float
from .problems import SKIP_IMAGE, SKIP_OBJECT, AnnotationError
from .source_dataset import ParsedFile, RawObject, SourceDataset, check_image_id

#: Keys every ``images`` / ``annotations`` entry must have.
IMAGE_KEYS = ('id', 'file_name')
ANNOTATION_KEYS = ('id', 'image_id', 'category_id', 'bbox')
#: Keys whose values must be integers (COCO ids).
INTEGER_KEYS = ('id', 'image_id', 'category_id')


def load_coco_json(path: str) -> Dict[str, Any]:
    """The top level of a COCO JSON file, checked: a dict with ``images``,
    ``annotations`` and ``categories`` lists, categories with distinct ids and names.

    Raises:
        ValueError: the file is no JSON (with its line and column) or lacks any of these.
    """
    try:
        with open(path, encoding='utf-8-sig') as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path}, line {err.lineno}, column {err.colno}: broken JSON '
                         f'({err.msg}); expected a COCO detection file')
    missing = [key for key in ('images', 'annotations', 'categories')
               if not isinstance(data, dict) or not isinstance(data.get(key), list)]
    if missing:
        raise ValueError(f'{path}: expected a COCO detection file, a JSON object with the '
                         f'lists "images", "annotations" and "categories"; missing or not '
                         f'a list: {missing}')
    cats = data['categories']
    if not all(isinstance(c, dict) and type(c.get('id')) is int
               and isinstance(c.get('name'), str) for c in cats):
        raise ValueError(f'{path}: every category needs an integer "id" and a "name", got '
                         f'{str(cats)[:200]}')
    for key in ('id', 'name'):
        values = [c[key] for c in cats]
        if len(set(values)) != len(values):
            raise ValueError(f'{path}: category {key}s must be distinct, got {values}')
    return data


@DATASETS.register_module()
class COCODetectionDataset(SourceDataset):
    """A COCO detection file (``instances_*.json``): one image per ``images`` entry, one
    object per ``annotations`` entry.

    Each annotation gives ``bbox`` ``[x, y, width, height]`` (pixels; the H-Box prompt)
    and ``category_id``, named by its category's ``name``. ``segmentation`` is ignored
    (the boxes are what SAM is prompted with; ``area`` too). ``iscrowd=1`` marks a box
    around a group of objects (a crowd of cars), which would become one mask spanning the
    group: such annotations are skipped by default (counted in ``report.counts['crowd']``,
    not a problem, as COCO's evaluation and mmdet ignore crowd regions);
    ``with_crowd=True`` prompts them as ordinary boxes.

    Classes: ``metainfo['classes']`` when given (category names matched onto them by
    name, see ``class_map``; categories not among them are ``unknown_class``), else the
    category names in the order of their ids. Images: ``file_name`` under
    ``data_prefix['img_path']`` (sub-folders allowed; no part may be absolute or start
    with ``.``, otherwise ``bad_id``), size from ``width``/``height`` (else the image
    header), image id = the file name's stem (a stem met again is ``duplicate_id``, the
    first image read; an image ``id`` listed again too). Bad entries are reported with the
    JSON file and ``object <n>``, ``n`` the entry's ``id``: an entry without ``id``,
    ``image_id``, ``category_id`` or a ``bbox`` of 4 numbers is ``bad_fields``, an
    ``image_id`` not in ``images`` too, a ``category_id`` not in ``categories``
    ``unknown_class``, degenerate or far-outside boxes as for every reader. A file that
    is no COCO JSON raises ``ValueError`` (with its line) in both ``strict`` modes.

    Layout: ``data_root`` holding the JSON file (``ann_file``, required) and the images
    (``data_prefix['img_path']``, default ``images``).

    Config: ``dataset=dict(type='COCODetectionDataset', data_root='data/my_coco',
    ann_file='annotations/instances.json', data_prefix=dict(img_path='images'))``.

    Args:
        with_crowd: keep ``iscrowd=1`` annotations (default False: skip them).
        **kwargs: see :class:`~mmsamrs.datasets.sources.source_dataset.SourceDataset`
            (``ann_file`` is the COCO JSON file here, not a split file).
    """

    SOURCE = 'coco'
    METAINFO = dict(source=SOURCE)
    DEFAULT_PREFIX = dict(img_path='images')
    REQUIRED_PREFIXES = ('img_path', )

    def __init__(self, with_crowd: bool = False, **kwargs) -> None:
        self.with_crowd = with_crowd
        self.coco = COCO()
        self.json_data: Dict[str, Any] = {}
        self.images: Dict[str, dict] = {}
        super().__init__(**kwargs)

    def verify(self) -> None:
        """Check the layout; the COCO JSON file (``ann_file``) is required."""
        if not self.ann_file:
            raise ValueError(f'{type(self).__name__}: give ann_file, the COCO JSON file '
                             f'(relative to data_root {self.data_root!r})')
        super().verify()

    def load_data_list(self) -> List[dict]:
        """Load and index the JSON file, take its classes (see the class docstring), then
        read every image."""
        self.verify()
        self.json_data = load_coco_json(self.ann_file)
        self.take_source_classes(
            [c['name'] for c in sorted(self.json_data['categories'], key=lambda c: c['id'])])
        try:
            return super().load_data_list()
        finally:
            self.json_data = {}

    def index(self, data: Dict[str, Any]) -> COCO:
        """A pycocotools index of the entries that have the keys it needs (the others are
        ``bad_fields``, reported when ``strict=False``)."""
        images, image_ids = [], set()
        for img in data['images']:
            if not self.has_keys(img, IMAGE_KEYS, 'image'):
                continue
            if img['id'] in image_ids:
                self.handle(AnnotationError(
                    'duplicate_id', f'image id {img["id"]!r} is listed again in "images" '
                    f'({img["file_name"]!r}); the first is read', file=self.ann_file),
                    SKIP_IMAGE)
                continue
            image_ids.add(img['id'])
            images.append(img)
        anns = []
        for ann in data['annotations']:
            if not self.has_keys(ann, ANNOTATION_KEYS, 'annotation'):
                continue
            if ann['image_id'] not in image_ids:
                self.handle(AnnotationError(
                    'bad_fields', f'image_id {ann["image_id"]!r} is not in "images"',
                    file=self.ann_file, obj=ann['id']), SKIP_OBJECT)
                continue
            anns.append(ann)
        coco = COCO()
        coco.dataset = dict(data, images=images, annotations=anns)
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
            coco.createIndex()
        return coco

    def has_keys(self, entry: Any, keys: Tuple[str, ...], what: str) -> bool:
        """Whether an ``images``/``annotations`` entry has ``keys``, its ids integers;
        ``bad_fields`` if not."""
        if not isinstance(entry, dict):
            missing = list(keys)
        else:
            missing = [k for k in keys if k not in entry
                       or (k in INTEGER_KEYS and type(entry[k]) is not int)]
        if missing:
            entry_id = entry.get('id') if isinstance(entry, dict) else None
            self.handle(AnnotationError(
                'bad_fields', f'{what} {str(entry)[:80]}: missing or not an integer: '
                f'{missing} (expected the keys {list(keys)}, ids as integers)',
                file=self.ann_file, obj=entry_id if type(entry_id) is int else None),
                SKIP_OBJECT if what == 'annotation' else SKIP_IMAGE)
        return not missing

    def annotation_files(self) -> List[Tuple[str, str]]:
        """Index the JSON file; one ``(img_id, ann_file)`` per image (class docstring)."""
        self.coco = self.index(self.json_data)
        self.images.clear()
        for img in self.coco.dataset['images']:
            try:
                img_id = self.image_stem(img['file_name'])
            except AnnotationError as err:
                self.handle(err.locate(self.ann_file), SKIP_IMAGE)
                continue
            if img_id in self.images:
                self.handle(AnnotationError(
                    'duplicate_id', f'image {img["file_name"]!r} (id {img["id"]!r}) has the '
                    f'image id {img_id!r} of {self.images[img_id]["file_name"]!r}; the first '
                    'is read', file=self.ann_file), SKIP_IMAGE)
                continue
            self.images[img_id] = img
        return [(img_id, self.ann_file) for img_id in self.images]

    @staticmethod
    def image_stem(file_name: Any) -> str:
        """The image id of a ``file_name``: its stem, every path part checked."""
        if not isinstance(file_name, str):
            raise AnnotationError('bad_id', f'file_name {file_name!r}: expected a string')
        for part in file_name.split('/'):
            check_image_id(part, f'file_name {file_name!r}: part')
        return check_image_id(osp.splitext(osp.basename(file_name))[0])

    def find_image(self, img_id: str, ann_path: str) -> str:
        """The image file of ``img_id``: ``file_name`` under ``data_prefix['img_path']``."""
        img = self.images[img_id]
        path = osp.join(self.data_prefix['img_path'], img['file_name'])
        if not osp.isfile(path):
            raise AnnotationError(
                'missing_image', f'image {img["file_name"]!r} (id {img["id"]!r}) not found: '
                f'{path!r} does not exist')
        return path

    def load_annotation(self, img_id: str, ann_path: str) -> ParsedFile:
        """The size and annotations of one image, from the index."""
        img = self.images[img_id]
        size: Optional[Tuple[int, int]] = None
        if all(isinstance(img.get(k), int) and img[k] > 0 for k in ('width', 'height')):
            size = (img['width'], img['height'])
        objects = []
        for ann in self.coco.imgToAnns.get(img['id'], []):
            if ann.get('iscrowd') and not self.with_crowd:
                self.report.counts['crowd'] += 1
            else:
                objects.append(RawObject(ann, obj=ann['id']))
        return ParsedFile(size, objects, {})

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """The category name and the H-Box of one annotation."""
        category = self.coco.cats.get(raw['category_id'])
        if category is None:
            raise AnnotationError(
                'unknown_class', f'category_id {raw["category_id"]!r} is not in "categories" '
                f'(ids {sorted(self.coco.cats)})')
        bbox = raw['bbox']
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise AnnotationError('bad_fields',
                                  f'bbox: expected [x, y, width, height], got {bbox!r}')
        x, y, w, h = (to_float(v, 'bbox') for v in bbox)
        return dict(class_name=category['name'], hbox=[x, y, x + w, y + h])
