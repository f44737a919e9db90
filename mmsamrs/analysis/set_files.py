"""Where a SAMRS set's files are: label PNGs, images and (optionally) ``instances.json``.

The two layouts of :mod:`mmsamrs.datasets.samrs` (the training datasets) are understood:

* **generator output** (``tools/generate_masks.py``, :mod:`mmsamrs.generation.label_writer`)::

      <out_dir>/gray/<stem>.png   color/<stem>.png   instances.json

  Images stay in the source dataset; give their folder as ``img_dir`` (e.g.
  ``data/DOTA/split_1024/images``): they are found by stem.
* **public SAMRS release**, with the folder names the official pre-training code reads
  (images in ``images/``, SIOR's in ``JPEGImages-trainval/`` and ``JPEGImages-test/``;
  labels in ``hbox_segs_init/gray/``, ``hbox_segs_trainvaltest_init/gray/`` or
  ``rhbox_segs_init/gray/``; split files ``train.txt``/``valid.txt``, not used here)::

      <set_root>/<image folder>/<stem>.<png|jpg|...>
      <set_root>/<label folder>/gray/<stem>.png

  ``root`` may be ``<set_root>`` (its single ``*/gray`` is used) or the label folder;
  image folders are looked for beside the label folder (:data:`IMAGE_DIR_NAMES`). The
  official generation code also wrote per-image ``ins/*.pkl`` pickles; they are not read
  (unpickling runs code). Without an ``instances.json`` instances are counted as connected
  components (see :mod:`mmsamrs.analysis.statistics`).

A multi-set run takes a Python config listing the sets (``coco_file`` is the COCO
instances file, not mmseg's split ``ann_file``)::

    sets = [
        dict(name='SOTA', root='data/SAMRS/dotav2_1024/trainval', classes='sota'),
        dict(name='SIOR', root='data/SAMRS/dior', classes='sior'),
        dict(name='FAST', root='work_dirs/fair1m_rhbox', classes='fast',
             img_dir='data/FAIR1M/split_600/images'),
    ]
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from mmsamrs.datasets.class_names import FAST_CLASSES, SIOR_CLASSES, SOTA_CLASSES
from mmsamrs.datasets.samrs import SAMRSDataset

LABEL_DIR = 'gray'
COCO_FILE = 'instances.json'
KNOWN_CLASSES: Dict[str, Tuple[str, ...]] = {
    'sota': SOTA_CLASSES, 'sior': SIOR_CLASSES, 'fast': FAST_CLASSES}
# image folders beside the label folder (public release, then a generator work dir)
IMAGE_DIR_NAMES = ('images', 'JPEGImages-trainval', 'JPEGImages-test', 'JPEGImages', 'img_dir')
IMAGE_SUFFIXES = SAMRSDataset.IMG_SUFFIXES

ClassSpec = Union[None, str, Sequence[str]]


def resolve_classes(spec: ClassSpec, set_name: str) -> Optional[Tuple[str, ...]]:
    """Class tuple from ``'sota'``/``'sior'``/``'fast'``, comma-separated names or a sequence.

    ``None`` takes the tuple of a set called SOTA, SIOR or FAST, and otherwise stays
    ``None`` (the classes then come from ``instances.json``).
    """
    if spec is None:
        return KNOWN_CLASSES.get(set_name.lower())
    if isinstance(spec, str):
        if spec.lower() in KNOWN_CLASSES:
            return KNOWN_CLASSES[spec.lower()]
        spec = [name.strip() for name in spec.split(',') if name.strip()]
    classes = tuple(spec)
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f'classes must be sota, sior, fast or distinct names, got {spec!r}')
    return classes


def _label_root(root: str) -> str:
    """The folder holding ``gray/``: ``root`` itself or its single ``*/gray`` child."""
    if os.path.isdir(os.path.join(root, LABEL_DIR)):
        return root
    found = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(root, '*', LABEL_DIR))
                   if os.path.isdir(p))
    if len(found) == 1:
        return found[0]
    if found:
        raise ValueError(f'{root} holds several label folders {found}; pass one of them')
    raise FileNotFoundError(
        f'no label folder under {root}: looked for {os.path.join(root, LABEL_DIR)} '
        f'(generator output) and {os.path.join(root, "*", LABEL_DIR)} (SAMRS release)')


@dataclass(frozen=True)
class SetSource:
    """The files of one SAMRS set.

    Attributes:
        name: set name used in tables and file names (e.g. ``'SOTA'``).
        label_dir: folder of the label PNGs (``uint8`` class index, 255 = no mask).
        classes: class tuple (label index = position); ``None`` to read it from
            ``coco_file``'s categories.
        img_dirs: folders searched for ``<stem>.<suffix>`` images (may be empty).
        coco_file: COCO ``instances.json`` or ``None`` (instances from the label PNGs).
    """

    name: str
    label_dir: str
    classes: Optional[Tuple[str, ...]]
    img_dirs: Tuple[str, ...] = ()
    coco_file: Optional[str] = None

    def __post_init__(self) -> None:
        if self.classes is None and self.coco_file is None:
            raise ValueError(f'{self.name}: no classes given and no {COCO_FILE} to read them '
                             'from; pass classes (sota, sior, fast or comma-separated names)')

    @classmethod
    def from_root(cls, root: str, name: Optional[str] = None, classes: ClassSpec = None,
                  img_dir: Union[None, str, Sequence[str]] = None,
                  coco_file: Optional[str] = None) -> 'SetSource':
        """Find the files of a set in either layout (see the module docstring).

        Args:
            root: generator output folder, release set folder or release label folder.
            name: set name; defaults to the base name of ``root``.
            classes: see :func:`resolve_classes`.
            img_dir: image folder(s); default: known image folders beside the labels.
            coco_file: COCO file; default ``instances.json`` beside ``gray/`` if present.
        """
        root = os.path.normpath(root)
        name = name or os.path.basename(root)
        label_root = _label_root(root)
        if img_dir is None:
            candidates = [os.path.join(label_root, d) for d in IMAGE_DIR_NAMES]
            candidates += [os.path.join(os.path.dirname(label_root), d) for d in IMAGE_DIR_NAMES]
            img_dirs = tuple(d for d in candidates if os.path.isdir(d))
        else:
            img_dirs = (img_dir, ) if isinstance(img_dir, str) else tuple(img_dir)
            missing = [d for d in img_dirs if not os.path.isdir(d)]
            if missing:
                raise FileNotFoundError(f'{name}: image folder(s) not found: {missing}')
        if coco_file is None:
            default = os.path.join(label_root, COCO_FILE)
            coco_file = default if os.path.isfile(default) else None
        elif not os.path.isfile(coco_file):
            raise FileNotFoundError(f'{name}: COCO file not found: {coco_file}')
        return cls(name, os.path.join(label_root, LABEL_DIR), resolve_classes(classes, name),
                   img_dirs, coco_file)

    def iter_label_files(self) -> Iterator[str]:
        """Paths of the label PNGs, in directory order, without listing them all first."""
        with os.scandir(self.label_dir) as entries:
            for entry in entries:
                if entry.name.endswith('.png') and not entry.name.startswith('.'):
                    yield entry.path

    def count_label_files(self) -> int:
        """Number of label PNGs (one directory pass, nothing kept)."""
        return sum(1 for _ in self.iter_label_files())

    def label_path(self, stem: str) -> str:
        """Label PNG of the image ``stem``."""
        return os.path.join(self.label_dir, stem + '.png')


def find_image(stem: str, img_dirs: Sequence[str]) -> Optional[str]:
    """First ``<dir>/<stem><suffix>`` that exists, over ``img_dirs`` and known suffixes."""
    for directory in img_dirs:
        for suffix in IMAGE_SUFFIXES:
            path = os.path.join(directory, stem + suffix)
            if os.path.isfile(path):
                return path
    return None


def stem_of(path: str) -> str:
    """File name without folder and suffix."""
    return os.path.splitext(os.path.basename(path))[0]


def load_sets(target: str, name: Optional[str] = None, classes: ClassSpec = None,
              img_dir: Optional[str] = None, coco_file: Optional[str] = None) -> List[SetSource]:
    """Sets from a directory (one set; the options apply) or a ``.py`` config (``sets``)."""
    if os.path.isdir(target):
        return [SetSource.from_root(target, name, classes, img_dir, coco_file)]
    if not os.path.isfile(target):
        raise FileNotFoundError(f'{target} is neither a directory nor a config file')
    if any(v is not None for v in (name, classes, img_dir, coco_file)):
        raise ValueError('set options (name, classes, image folder, annotation file) apply to '
                         'a directory; in a config give them in each entry of `sets`')
    from mmengine.config import Config
    sets: List[Dict[str, Any]] = Config.fromfile(target).get('sets', None)
    if not sets:
        raise ValueError(f'{target} has no `sets` list, e.g. sets=[dict(name="SOTA", '
                         'root="data/SAMRS/SOTA", classes="sota")]')
    sources = [SetSource.from_root(**dict(entry)) for entry in sets]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ValueError(f'set names must be distinct, got {names}')
    return sources
