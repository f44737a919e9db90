"""The SAMRS semantic segmentation sets SOTA, SIOR and FAST as mmseg datasets.

A set is an image folder and a label folder (``data_prefix`` ``img_path`` and
``seg_map_path``) holding ``<stem><img suffix>`` and ``<stem>.png`` (``uint8`` class index
per pixel, 255 = no label, never remapped), plus an optional split file (``ann_file``, one
stem per line, e.g. from ``tools/make_splits.py``); without one, every image of the image
folder is used. Both layouts in use are such pairs of folders:

* **ours** (``tools/generate_masks.py``): labels in ``<work_dir>/gray``; the images are the
  generation's source images (``<source data_root>/<dir of file_name>`` of
  ``instances.json``, e.g. ``data/DOTA/split_1024/images``);
* **the public SAMRS release**, as the official pre-training code reads it: a set folder
  (``dotav2_1024/trainval``, ``dior``, ``fair1m_1024/trainval``) with the split files
  ``train.txt``/``valid.txt``, the images (``images/*.png``; SIOR ``JPEGImages-trainval/
  *.jpg``) and the labels in the ``gray`` folder of the generation output
  (``hbox_segs_init/gray``, ``hbox_segs_trainvaltest_init/gray``, ``rhbox_segs_init/gray``).
  These folder names are the official code's; other copies may differ, hence the prefixes.

Every sample carries its set name (``'SOTA'``/``'SIOR'``/``'FAST'``) as ``dataset_name``;
mmseg's ``PackSegInputs`` keeps it in ``data_sample.metainfo`` only when listed in its
``meta_keys``, so the datasets require ``dict(type='PackSegInputs', meta_keys=META_KEYS)``
written out in configs as::

    dict(type='PackSegInputs',
         meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                    'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                    'dataset_name'))

The sets differ in ``classes``/``palette``/``dataset_name``, so an mmengine
``ConcatDataset`` of them needs ``ignore_keys=['classes', 'palette', 'dataset_name']``.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

from mmseg.datasets import BaseSegDataset
from mmseg.datasets.transforms import PackSegInputs

from mmsamrs.registry import DATASETS
from mmsamrs.utils import IGNORE_INDEX
from .class_names import FAST_CLASSES, SIOR_CLASSES, SOTA_CLASSES, make_palette
from .split_files import read_stems

META_KEYS = PackSegInputs().meta_keys + ('dataset_name', )
SHOWN = 5  # missing files named in an error message


def _preview(stems: Sequence[str]) -> str:
    more = f' and {len(stems) - SHOWN} more' if len(stems) > SHOWN else ''
    return ', '.join(repr(s) for s in stems[:SHOWN]) + more


@DATASETS.register_module()
class SAMRSDataset(BaseSegDataset):
    """A SAMRS-style set: the base of SOTA/SIOR/FAST, and any set of one's own given
    ``metainfo=dict(classes=..., palette=..., dataset_name=...)`` (subclasses set
    ``METAINFO``). See the module docstring for layouts and the required pipeline. Config:
    ``dataset=dict(type='SAMRSDataset', data_root=..., metainfo=dict(...), pipeline=...)``;
    several sets at once: ``SAMRSMultiSetDataset``.

    Args:
        data_root: root joined to ``ann_file`` and relative ``data_prefix`` entries.
        data_prefix: ``img_path`` and ``seg_map_path``, merged over
            ``dict(img_path='images', seg_map_path='gray')``.
        ann_file: optional split file, one stem per line.
        img_suffix: image suffix, or candidates in order of preference (default: ``.png``,
            ``.jpg``, ``.jpeg``, ``.tif``, ``.tiff``, ``.bmp``).
        seg_map_suffix: label suffix.
        **kwargs: the other arguments of mmseg's ``BaseSegDataset`` (``pipeline``,
            ``test_mode``, ``indices``, ``serialize_data`` ...); ``reduce_zero_label`` must
            stay False and ``ignore_index`` 255.
    """

    DEFAULT_PREFIX = dict(img_path='images', seg_map_path='gray')
    IMG_SUFFIXES = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')

    def __init__(self, data_root: Optional[str] = None, data_prefix: Optional[dict] = None,
                 ann_file: str = '', img_suffix: Union[str, Sequence[str], None] = None,
                 seg_map_suffix: str = '.png', **kwargs) -> None:
        if kwargs.get('reduce_zero_label', False) or kwargs.get(
                'ignore_index', IGNORE_INDEX) != IGNORE_INDEX:
            raise ValueError(f'{type(self).__name__}: SAMRS labels are class indices from 0 '
                             f'with {IGNORE_INDEX} = no label; keep reduce_zero_label=False '
                             f'and ignore_index={IGNORE_INDEX}')
        suffixes = self.IMG_SUFFIXES if img_suffix is None else img_suffix
        super().__init__(
            data_root=data_root, data_prefix={**self.DEFAULT_PREFIX, **(data_prefix or {})},
            ann_file=ann_file,
            img_suffix=(suffixes, ) if isinstance(suffixes, str) else tuple(suffixes),
            seg_map_suffix=seg_map_suffix, **kwargs)
        packs = [t for t in self.pipeline.transforms if isinstance(t, PackSegInputs)]
        if any('dataset_name' not in t.meta_keys for t in packs):
            raise ValueError(
                f"{type(self).__name__}: PackSegInputs drops the samples' dataset_name; "
                f'use dict(type=\'PackSegInputs\', meta_keys={META_KEYS!r})')

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        """mmengine's metainfo loading, with ``dataset_name`` taken as a name: mmengine would
        first try to read any string value as a file of that name."""
        metainfo = dict(metainfo or {})
        name = metainfo.pop('dataset_name', None)
        loaded = super()._load_metainfo(metainfo)
        if name is not None:
            loaded['dataset_name'] = name
        return loaded

    @property
    def dataset_name(self) -> str:
        """Name of the set (``'SOTA'``, ``'SIOR'`` or ``'FAST'``)."""
        return self._metainfo['dataset_name']

    @staticmethod
    def _files(folder: str, suffixes: Sequence[str]) -> Dict[str, str]:
        """``stem -> file name`` in ``folder``; a stem with several suffixes takes the first."""
        names = [e.name for e in os.scandir(folder) if e.is_file()]
        files: Dict[str, str] = {}
        for suffix in reversed(suffixes):  # earlier suffixes overwrite later ones
            files.update((name[:-len(suffix)], name) for name in names
                         if name.endswith(suffix) and len(name) > len(suffix))
        return files

    def _missing(self, what: str, stems: List[str], total: int, where: str,
                 hint: str) -> FileNotFoundError:
        return FileNotFoundError(
            f'{type(self).__name__}: {len(stems)} of {total} images of {where} have no '
            f'{what}: {_preview(stems)}. {hint}')

    def load_data_list(self) -> List[dict]:
        """Verify the folders and split file, then list ``(image, label)`` pairs."""
        img_dir, seg_dir = self.data_prefix['img_path'], self.data_prefix['seg_map_path']
        absent = [f"data_prefix['{key}'] folder {path!r}"
                  for key, path in (('img_path', img_dir), ('seg_map_path', seg_dir))
                  if not osp.isdir(path)]
        if self.ann_file and not osp.isfile(self.ann_file):
            absent.append(f'split file (ann_file) {self.ann_file!r}')
        if absent:
            raise FileNotFoundError(
                f'{type(self).__name__}: not found: {"; ".join(absent)} '
                f'(data_root={self.data_root!r}, cwd={os.getcwd()!r})')
        images = self._files(img_dir, self.img_suffix)
        labels = self._files(seg_dir, (self.seg_map_suffix, ))
        if self.ann_file:
            stems, where = read_stems(self.ann_file), f'split file {self.ann_file!r}'
            if not stems:
                raise ValueError(
                    f'{type(self).__name__}: split file (ann_file) {self.ann_file!r} lists '
                    'no image; tools/make_splits.py gives every set of 2 or more images '
                    'train and val images')
            no_image = [s for s in stems if s not in images]
            if no_image:
                raise self._missing(
                    f'image ({"/".join(self.img_suffix)}) in {img_dir!r}', no_image,
                    len(stems), where, "Check data_prefix['img_path'] and img_suffix.")
        else:
            stems, where = sorted(images), f'folder {img_dir!r}'
            if not stems:
                raise FileNotFoundError(
                    f'{type(self).__name__}: no images ({"/".join(self.img_suffix)}) in '
                    f'{img_dir!r}')
        no_label = [s for s in stems if s not in labels]
        if no_label:
            raise self._missing(
                f'label {self.seg_map_suffix} in {seg_dir!r}', no_label, len(stems), where,
                'Images whose generation failed are listed in failures.json of the '
                'generation run: regenerate them, or list only labelled images in a split '
                'file (tools/make_splits.py).')
        return [
            dict(img_path=osp.join(img_dir, images[stem]),
                 seg_map_path=osp.join(seg_dir, labels[stem]), label_map=self.label_map,
                 reduce_zero_label=False, seg_fields=[], dataset_name=self.dataset_name)
            for stem in stems
        ]


@DATASETS.register_module()
class SOTADataset(SAMRSDataset):
    """SOTA (from DOTA v2.0, 1024x1024 patches), 18 classes.

    Config (our layout): ``dict(type='SOTADataset', data_root='work_dirs/gen_dota_hbox',
    ann_file='train.txt', data_prefix=dict(img_path='data/DOTA/split_1024/images',
    seg_map_path='gray'), pipeline=...)``; public release:
    ``data_root='data/SAMRS/dotav2_1024/trainval', ann_file='train.txt',
    data_prefix=dict(img_path='images', seg_map_path='hbox_segs_init/gray')``.
    """

    METAINFO = dict(classes=SOTA_CLASSES, palette=make_palette(len(SOTA_CLASSES)),
                    dataset_name='SOTA')


@DATASETS.register_module()
class SIORDataset(SAMRSDataset):
    """SIOR (from DIOR, 800x800 ``.jpg``), 20 classes; pre-training uses DIOR trainval.

    Config (our layout): ``dict(type='SIORDataset', data_root='work_dirs/gen_dior_hbox',
    ann_file='train.txt', data_prefix=dict(img_path='data/DIOR/JPEGImages',
    seg_map_path='gray'), pipeline=...)``; public release: ``data_root='data/SAMRS/dior',
    ann_file='train.txt', data_prefix=dict(img_path='JPEGImages-trainval',
    seg_map_path='hbox_segs_trainvaltest_init/gray')``.
    """

    METAINFO = dict(classes=SIOR_CLASSES, palette=make_palette(len(SIOR_CLASSES)),
                    dataset_name='SIOR')


@DATASETS.register_module()
class FASTDataset(SAMRSDataset):
    """FAST (from FAIR1M 2.0, 600x600 patches), 37 classes.

    Config (our layout): ``dict(type='FASTDataset', data_root='work_dirs/gen_fair1m_rhbox',
    ann_file='train.txt', data_prefix=dict(img_path='data/FAIR1M/split_600/images',
    seg_map_path='gray'), pipeline=...)``; public release:
    ``data_root='data/SAMRS/fair1m_1024/trainval', ann_file='train.txt',
    data_prefix=dict(img_path='images', seg_map_path='rhbox_segs_init/gray')``.
    """

    METAINFO = dict(classes=FAST_CLASSES, palette=make_palette(len(FAST_CLASSES)),
                    dataset_name='FAST')
