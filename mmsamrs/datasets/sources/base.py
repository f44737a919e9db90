"""Shared machinery of the detection-source readers (DOTA, DIOR, FAIR1M, HRSC2016).

A reader lists its annotation files, checks its layout up front, parses every file into
one ``data_info`` dict (the data contract below) and keeps a :class:`SourceReport` of
every problem it met. Subclasses only say how to read their format
(:meth:`SourceDataset.read_objects`, :meth:`SourceDataset.parse_object`) and how source
class names map onto a SAMRS class tuple (``NAME_MAP``).

``data_info``: ``img_path``, ``img_id`` (file stem), ``ann_path``, ``height``, ``width``,
``source`` and ``instances``, each instance a dict with ``bbox`` (H-Box ``[x1, y1, x2,
y2]``, clipped to the image), ``qbox`` (4 corners as given, where the source has a
rotated/quadrilateral box), ``rbox`` (``[cx, cy, w, h, angle_rad]``, idem), ``bbox_label``
(index in ``metainfo['classes']``), ``class_name`` (canonical SAMRS name), ``difficult``
(0/1) and ``ignore_flag`` (0).

Bad input and the ``strict`` option. Each problem has a kind:

========================  ==========================================  =================
kind                      what                                        strict=False
========================  ==========================================  =================
``unknown_class``         a class name that maps to no SAMRS class    skip the object
``bad_fields``            wrong number of fields / missing XML field  skip the object
``bad_number``            NaN, inf or non-numeric value               skip the object
``zero_area``             box of zero width, height or area           skip the object
``outside_image``         box entirely outside the image              skip the object
``broken_xml``            unparsable XML or wrong root element        skip the image
``missing_image``         annotation whose image does not exist       skip the image
``missing_annotation``    id of the split file without annotation     skip the image
``bad_image``             image header unreadable (size unknown)      skip the image
``empty_file``            annotation file with no content at all      keep, no objects
``missing_mask``          HRSC image says segmented, mask file absent keep, no mask
========================  ==========================================  =================

With ``strict=True`` (default) the first problem raises :class:`AnnotationError`, whose
message names the file (and the line for text formats, the object number for XML) and
what was expected. With ``strict=False`` it is recorded in ``dataset.report`` and only the
object (or image) is skipped. Boxes that stick out of the image are clipped in both modes
and counted (``report.counts['clipped']``); they are not problems. An annotation file with
header lines or an XML root but no objects is a valid image without objects; only a file
with no content at all is ``empty_file`` (``allow_empty=True`` accepts those silently,
e.g. background patches written by a splitter).
"""
import json
import logging
import math
import os
import os.path as osp
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from PIL import Image

from mmsamrs.datasets.class_names import class_index
from mmsamrs.structures.boxes import quad_to_rbox, rbox_to_quad

Size = Tuple[int, int]
SKIP_OBJECT = 'skipped object'
SKIP_IMAGE = 'skipped image'
SKIP_COUNTS = {SKIP_OBJECT: 'skipped_objects', SKIP_IMAGE: 'skipped_images'}


class AnnotationError(ValueError):
    """A problem in a source annotation: ``kind`` (see module docstring), where, what.

    ``str(err)`` reads ``'<file>, line <n>: <detail>'`` (``object <n>`` for XML).
    """

    def __init__(self, kind: str, detail: str, file: Optional[str] = None,
                 line: Optional[int] = None, obj: Optional[int] = None) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail
        self.file = file
        self.line = line
        self.obj = obj

    def locate(self, file: str, line: Optional[int] = None,
               obj: Optional[int] = None) -> 'AnnotationError':
        """Fill in the location where it is not known yet; return ``self``."""
        self.file = self.file or file
        self.line = self.line if self.line is not None else line
        self.obj = self.obj if self.obj is not None else obj
        return self

    def __str__(self) -> str:
        where = [self.file or '<unknown file>']
        if self.line is not None:
            where.append(f'line {self.line}')
        if self.obj is not None:
            where.append(f'object {self.obj}')
        return f"{', '.join(where)}: {self.detail}"


@dataclass
class Problem:
    """One recorded problem: its kind, location, message and what the reader did."""

    kind: str
    file: Optional[str]
    message: str
    action: str
    line: Optional[int] = None
    object: Optional[int] = None


class SourceReport:
    """What a reader met: ``problems`` (list of :class:`Problem`) and ``counts``.

    ``counts`` holds ``annotation_files``, ``images`` and ``instances`` kept,
    ``clipped`` boxes, ``skipped_objects``, ``skipped_images``, ``empty_files``,
    ``filtered_images`` (not selected, e.g. HRSC ``masks_only``) and one
    entry per problem kind.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: List[Problem] = []
        self.counts: Counter = Counter()

    def add(self, err: AnnotationError, action: str) -> None:
        """Record ``err`` and the ``action`` taken."""
        self.problems.append(
            Problem(err.kind, err.file, str(err), action, err.line, err.obj))
        self.counts[err.kind] += 1

    def to_dict(self) -> Dict[str, Any]:
        """Return a JSON-serialisable dict: ``source``, ``counts``, ``problems``."""
        return dict(source=self.source, counts=dict(sorted(self.counts.items())),
                    problems=[asdict(p) for p in self.problems])

    def dump(self, path: str) -> None:
        """Write :meth:`to_dict` as JSON to ``path``."""
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(self.to_dict(), f, indent=2)

    def summary(self) -> str:
        """One line: images/instances kept, clipped boxes, problems by kind."""
        c = self.counts
        text = (f'{self.source}: {c["images"]} images, {c["instances"]} instances '
                f'from {c["annotation_files"]} annotation files; {c["clipped"]} boxes '
                f'clipped; {len(self.problems)} problems')
        kinds = Counter(p.kind for p in self.problems)
        if kinds:
            text += ' (' + ', '.join(f'{k}: {n}' for k, n in sorted(kinds.items())) + ')'
        return text


class RawObject(NamedTuple):
    """One object as read from a file, before :meth:`SourceDataset.parse_object`."""

    raw: Any
    line: Optional[int] = None
    obj: Optional[int] = None


class ParsedFile(NamedTuple):
    """What :meth:`SourceDataset.read_objects` returns for one annotation file."""

    size: Optional[Size]
    objects: List[RawObject]
    extra: Dict[str, Any]


def normalize_name(name: str) -> str:
    """Lower-case ``name`` and turn each run of spaces, ``_`` and ``-`` into one ``-``."""
    return re.sub(r'[\s_\-]+', '-', name.strip().lower())


def build_name_map(spellings: Mapping[str, Sequence[str]]) -> Dict[str, str]:
    """Map normalised source spellings (and each canonical name) to the canonical name."""
    name_map: Dict[str, str] = {}
    for canonical, extra in spellings.items():
        for spelling in (canonical, *extra):
            key = normalize_name(spelling)
            if name_map.setdefault(key, canonical) != canonical:
                raise ValueError(f'spelling {spelling!r} maps to two classes')
    return name_map


def to_float(text: str, what: str) -> float:
    """Parse a finite float; raise ``AnnotationError('bad_number')`` otherwise."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise AnnotationError('bad_number', f'{what}: expected a number, got {text!r}')
    if not math.isfinite(value):
        raise AnnotationError('bad_number', f'{what}: expected a finite number, got {text!r}')
    return value


def to_flag(text: str, what: str = 'difficult') -> int:
    """Parse an integer flag as 0/1 (any non-zero integer is 1)."""
    try:
        return int(int(text) != 0)
    except (TypeError, ValueError):
        raise AnnotationError('bad_number', f'{what}: expected an integer flag, got {text!r}')


def parse_xml(content: bytes, root_tag: str) -> ET.Element:
    """Parse XML bytes and check the root element; ``broken_xml`` otherwise."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as err:
        raise AnnotationError('broken_xml', f'broken XML ({err})', line=err.position[0])
    if root.tag != root_tag:
        raise AnnotationError(
            'broken_xml', f'expected root element <{root_tag}>, got <{root.tag}>')
    return root


def xml_text(elem: ET.Element, path: str) -> str:
    """Return the stripped text at ``path``; ``bad_fields`` when missing or empty."""
    node = elem.find(path)
    text = (node.text or '').strip() if node is not None else ''
    if not text:
        raise AnnotationError('bad_fields', f'missing or empty <{path}>')
    return text


def xml_optional(elem: ET.Element, path: str) -> str:
    """Return the stripped text at ``path``, ``''`` when missing or empty."""
    node = elem.find(path)
    return (node.text or '').strip() if node is not None else ''


def xml_floats(elem: ET.Element, paths: Sequence[str]) -> List[float]:
    """Parse the numbers at ``paths`` (see :func:`to_float`)."""
    return [to_float(xml_text(elem, p), f'<{p}>') for p in paths]


def xml_size(root: ET.Element, width_path: str, height_path: str) -> Optional[Size]:
    """Return ``(width, height)`` from the XML, or None when absent or not positive."""
    try:
        size = (int(float(xml_optional(root, width_path))),
                int(float(xml_optional(root, height_path))))
    except ValueError:
        return None
    return size if min(size) > 0 else None


def read_image_size(path: str) -> Size:
    """Return ``(width, height)`` from the image header, without decoding the pixels."""
    max_pixels = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # huge DOTA scenes are fine: nothing is decoded
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, ValueError) as err:
        raise AnnotationError('bad_image', f'cannot read the size of {path}: {err}')
    finally:
        Image.MAX_IMAGE_PIXELS = max_pixels


def quad_area(quad: Sequence[float]) -> float:
    """Shoelace area of a quadrilateral given as 8 numbers."""
    xs, ys = quad[0::2], quad[1::2]
    return 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(4)))


class SourceDataset(BaseDataset):
    """Base of the detection-source readers; see the module docstring.

    Args:
        data_root: root of the dataset; ``ann_file`` and ``data_prefix`` are joined to it.
        data_prefix: sub-directories, merged over the reader's defaults
            (``img_path``, ``ann_path``, and ``seg_path`` for HRSC).
        ann_file: optional split file (one image id per line, e.g.
            ``ImageSets/Main/trainval.txt``); by default every annotation file is read.
        strict: raise at the first bad input (True) or record it in ``self.report`` and
            skip the object/image (False).
        allow_empty: accept annotation files with no content as images without objects
            (no problem recorded).
        img_suffix: image file suffix, or candidates tried in order.
        **kwargs: the other arguments of :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``serialize_data``, ``filter_cfg`` ...).
            ``filter_cfg=dict(filter_empty_gt=True)`` drops images without objects
            when not in test mode.
    """

    SOURCE: str = ''
    NAME_MAP: Dict[str, str] = {}
    DEFAULT_PREFIX: Dict[str, str] = {}
    REQUIRED_PREFIXES: Tuple[str, ...] = ('img_path', 'ann_path')
    IMG_SUFFIXES: Tuple[str, ...] = ()
    ANN_SUFFIX: str = ''

    def __init__(self, data_root: str = '', data_prefix: Optional[dict] = None,
                 ann_file: str = '', strict: bool = True, allow_empty: bool = False,
                 img_suffix: Union[str, Sequence[str], None] = None, **kwargs) -> None:
        self.strict = strict
        self.allow_empty = allow_empty
        suffixes = img_suffix if img_suffix is not None else self.IMG_SUFFIXES
        self.img_suffixes = (suffixes, ) if isinstance(suffixes, str) else tuple(suffixes)
        self.report = SourceReport(self.SOURCE)
        super().__init__(
            ann_file=ann_file, data_root=data_root,
            data_prefix={**self.DEFAULT_PREFIX, **(data_prefix or {})}, **kwargs)

    @property
    def name_map(self) -> Dict[str, str]:
        """Normalised source spelling -> canonical class name accepted by this reader."""
        return self.NAME_MAP

    def read_objects(self, content: bytes, img_id: str) -> ParsedFile:
        """Parse one non-empty annotation file into its size, raw objects and extras."""
        raise NotImplementedError

    def parse_object(self, raw: Any) -> Dict[str, Any]:
        """Turn one raw object into ``class_name`` (source spelling), ``difficult`` and
        at least one of ``hbox``/``qbox`` (plus ``rbox`` and extra keys if any)."""
        raise NotImplementedError

    def verify(self) -> None:
        """Check the layout up front; ``FileNotFoundError`` saying what is missing where."""
        missing = [f"data_prefix['{key}'] directory {self.data_prefix[key]!r}"
                   for key in self.REQUIRED_PREFIXES
                   if not osp.isdir(self.data_prefix[key])]
        if self.ann_file and not osp.isfile(self.ann_file):
            missing.append(f'split file (ann_file) {self.ann_file!r}')
        if missing:
            raise FileNotFoundError(
                f'{type(self).__name__}: not found: {"; ".join(missing)} '
                f'(data_root={self.data_root!r}, cwd={os.getcwd()!r}). Expected '
                f'{self.DEFAULT_PREFIX} under data_root, or set data_prefix.')

    def annotation_files(self) -> List[Tuple[str, str]]:
        """Return ``(img_id, annotation path)`` pairs, from the split file or the folder."""
        ann_dir = self.data_prefix['ann_path']
        if self.ann_file:
            with open(self.ann_file, encoding='utf-8') as f:
                ids = [line.strip() for line in f if line.strip()]
        else:
            ids = sorted(e.name[:-len(self.ANN_SUFFIX)] for e in os.scandir(ann_dir)
                         if e.is_file() and e.name.endswith(self.ANN_SUFFIX))
            if not ids:
                raise FileNotFoundError(
                    f'{type(self).__name__}: no *{self.ANN_SUFFIX} annotation files '
                    f'in {ann_dir!r}')
        return [(i, osp.join(ann_dir, i + self.ANN_SUFFIX)) for i in ids]

    def handle(self, err: AnnotationError, action: str) -> None:
        """Raise ``err`` when strict; otherwise record it with the ``action`` taken."""
        if self.strict:
            raise err
        self.report.add(err, action)
        if action in SKIP_COUNTS:
            self.report.counts[SKIP_COUNTS[action]] += 1

    def load_data_list(self) -> List[dict]:
        """Verify the layout, then parse every annotation file (see module docstring)."""
        self.verify()
        self.report = SourceReport(self.SOURCE)
        self._names = self.name_map
        self._labels = class_index(self._metainfo['classes'])
        data_list = []
        for img_id, ann_path in self.annotation_files():
            self.report.counts['annotation_files'] += 1
            try:
                if not osp.isfile(ann_path):
                    raise AnnotationError('missing_annotation',
                                          f'no annotation file for image id {img_id!r}')
                data_info = self.parse_data_info(dict(img_id=img_id, ann_path=ann_path))
            except AnnotationError as err:
                self.handle(err.locate(ann_path), SKIP_IMAGE)
                continue
            if self.keep_image(data_info):
                data_list.append(data_info)
            else:
                self.report.counts['filtered_images'] += 1
        self.report.counts['images'] = len(data_list)
        self.report.counts['instances'] = sum(len(d['instances']) for d in data_list)
        print_log(self.report.summary(), logger='current',
                  level=logging.WARNING if self.report.problems else logging.INFO)
        return data_list

    def keep_image(self, data_info: dict) -> bool:
        """Whether a parsed image is kept (readers with a selection option override it)."""
        return True

    def find_image(self, img_id: str) -> str:
        """Return the image path of ``img_id``; ``missing_image`` when none exists."""
        img_dir = self.data_prefix['img_path']
        for suffix in self.img_suffixes:
            path = osp.join(img_dir, img_id + suffix)
            if osp.isfile(path):
                return path
        raise AnnotationError(
            'missing_image', f'image {img_id!r} not found in {img_dir!r} '
            f'(tried suffixes {", ".join(self.img_suffixes)})')

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Parse the annotation file ``raw_data_info['ann_path']`` into a ``data_info``."""
        img_id, ann_path = raw_data_info['img_id'], raw_data_info['ann_path']
        img_path = self.find_image(img_id)
        with open(ann_path, 'rb') as f:
            content = f.read()
        if content.strip():
            parsed = self.read_objects(content, img_id)
        else:
            parsed = ParsedFile(None, [], {})
            self.report.counts['empty_files'] += 1
            if not self.allow_empty:
                self.handle(
                    AnnotationError('empty_file', 'annotation file is empty (expected '
                                    f'{self.SOURCE} annotations)', file=ann_path),
                    'kept image without objects')
        width, height = parsed.size or read_image_size(img_path)
        instances = []
        for obj in parsed.objects:
            try:
                instances.append(self.make_instance(self.parse_object(obj.raw), width, height))
            except AnnotationError as err:
                self.handle(err.locate(ann_path, obj.line, obj.obj), SKIP_OBJECT)
        complete_rotated_boxes(instances)
        return dict(img_path=img_path, img_id=img_id, ann_path=ann_path, height=height,
                    width=width, source=self.SOURCE, instances=instances, **parsed.extra)

    def map_class(self, name: str) -> Tuple[str, int]:
        """Return the canonical name and label of a source class name."""
        canonical = self._names.get(normalize_name(name))
        if canonical is None:
            raise AnnotationError(
                'unknown_class', f'unknown class name {name!r} for {type(self).__name__}; '
                f'expected one of {sorted(set(self._names.values()))}')
        if canonical not in self._labels:
            raise AnnotationError(
                'unknown_class', f'class {name!r} ({canonical!r}) is not in '
                f"metainfo['classes'] {tuple(self._labels)}")
        return canonical, self._labels[canonical]

    def make_instance(self, obj: Dict[str, Any], width: int, height: int) -> dict:
        """Map the class, check the box geometry, clip the H-Box (see module docstring)."""
        obj = dict(obj)
        name, label = self.map_class(obj.pop('class_name'))
        qbox, rbox = obj.pop('qbox', None), obj.pop('rbox', None)
        hbox = obj.pop('hbox', None)
        if hbox is None:
            hbox = [min(qbox[0::2]), min(qbox[1::2]), max(qbox[0::2]), max(qbox[1::2])]
        x1, y1, x2, y2 = hbox
        if (x2 <= x1 or y2 <= y1 or (qbox is not None and quad_area(qbox) <= 0)
                or (rbox is not None and rbox[2] * rbox[3] <= 0)):
            raise AnnotationError('zero_area', f'box has zero width, height or area: {hbox}')
        if x1 >= width or y1 >= height or x2 <= 0 or y2 <= 0:
            raise AnnotationError(
                'outside_image', f'box {hbox} lies outside the {width}x{height} image')
        clipped = [min(max(x1, 0.), width), min(max(y1, 0.), height),
                   min(max(x2, 0.), width), min(max(y2, 0.), height)]
        if clipped != [float(v) for v in hbox]:
            self.report.counts['clipped'] += 1
        instance: Dict[str, Any] = dict(bbox=[float(v) for v in clipped])
        if qbox is not None:
            instance['qbox'] = [float(v) for v in qbox]
        if rbox is not None:
            instance['rbox'] = [float(v) for v in rbox]
        instance.update(bbox_label=label, class_name=name,
                        difficult=int(obj.pop('difficult', 0)), ignore_flag=0, **obj)
        return instance

    def filter_data(self) -> List[dict]:
        """Drop images without objects if ``filter_cfg.filter_empty_gt`` (not in test mode)."""
        if self.test_mode or not (self.filter_cfg or {}).get('filter_empty_gt', False):
            return self.data_list
        return [d for d in self.data_list if d['instances']]

    def _serialize_data(self) -> Tuple[np.ndarray, np.ndarray]:
        """Serialise like mmengine, which fails on an empty list (all images skipped)."""
        if not self.data_list:
            return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
        return super()._serialize_data()

    def get_cat_ids(self, idx: int) -> List[int]:
        """Return the labels of the instances of image ``idx``."""
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']]


def complete_rotated_boxes(instances: List[dict]) -> None:
    """Add ``rbox`` to instances that have only ``qbox`` and vice versa (batched)."""
    need_rbox = [i for i in instances if 'qbox' in i and 'rbox' not in i]
    if need_rbox:
        rboxes = quad_to_rbox(np.array([i['qbox'] for i in need_rbox]))
        for inst, rbox in zip(need_rbox, rboxes.tolist()):
            inst['rbox'] = rbox
    need_qbox = [i for i in instances if 'rbox' in i and 'qbox' not in i]
    if need_qbox:
        quads = rbox_to_quad(np.array([i['rbox'] for i in need_qbox]))
        for inst, quad in zip(need_qbox, quads.tolist()):
            inst['qbox'] = quad
