"""The list of SAMRS sets of a pre-training run, and their concatenation as one dataset.

A set is given by name (a built-in set) or by a dict (a set of one's own, or a built-in set
with its layout changed). Every field but ``name`` is optional for a built-in set::

    'SOTA'                                  # built-in: SOTA, SIOR or FAST, default layout
    dict(name='SOTA', data_root='/big/disk')        # built-in, another data root
    dict(name='Roads', classes=('road', 'bridge'),  # one's own set
         palette=[[128, 64, 128], [0, 0, 230]], data_root='data/roads')

Fields (paths relative to ``data_root``; ``ann_file`` is formatted with the split name):

=================  ====================================  ================================
field              built-in set (``<S>`` = its name)     one's own set
=================  ====================================  ================================
``classes``        the set's classes                     required
``palette``        the set's palette                     one colour per class (generated)
``data_root``      the dataset's ``data_root``           required
``img_path``       :data:`BUILTIN_SETS` image folder     ``'images'``
``seg_map_path``   ``'SAMRS/<S>/gray'``                  ``'gray'``
``ann_file``       ``'SAMRS/<S>/{split}.txt'``           ``'{split}.txt'``
``img_suffix``     ``.png``/``.jpg``/... (first found)   the same
=================  ====================================  ================================

The built-in layout is the one of ``data/README.md``: labels written by
``tools/generate_masks.py --work-dir data/SAMRS/<S>`` and split files by
``tools/make_splits.py data/SAMRS/<S>/gray data/SAMRS/<S>``; the images stay where the
generation read them.
"""
from typing import Any, Dict, List, Mapping, Sequence, Union

from mmengine.dataset import ConcatDataset

from mmsamrs.registry import DATASETS
from .class_names import make_palette
from .samrs import FASTDataset, SAMRSDataset, SIORDataset, SOTADataset

SetSpec = Union[str, Mapping[str, Any]]

#: Built-in sets: their dataset class and image folder under the data root.
BUILTIN_SETS = dict(
    SOTA=(SOTADataset, 'DOTA/split_1024/images'),
    SIOR=(SIORDataset, 'DIOR/JPEGImages'),
    FAST=(FASTDataset, 'FAIR1M/split_600/train/images'))
#: Fields a set dict may hold.
SET_FIELDS = ('name', 'classes', 'palette', 'data_root', 'img_path', 'seg_map_path',
              'ann_file', 'img_suffix')


def resolve_set(spec: SetSpec, data_root: str = 'data') -> Dict[str, Any]:
    """Every field of one set (see the module docstring), its defaults filled in.

    Args:
        spec: a built-in set's name, or a dict of :data:`SET_FIELDS`.
        data_root: data root of the built-in sets that do not set their own.

    Raises:
        ValueError: unknown field, unknown set without ``classes`` or ``data_root``,
            classes that are not a list of names, or a palette whose length is not the
            number of classes.
    """
    spec = dict(name=spec) if isinstance(spec, str) else dict(spec)
    name = spec.get('name')
    unknown = sorted(set(spec) - set(SET_FIELDS))
    if not isinstance(name, str) or unknown:
        raise ValueError(f'SAMRS set {spec!r}: expected a set name or a dict with a str '
                         f'"name" and fields among {list(SET_FIELDS)}; unknown: {unknown}')
    if name in BUILTIN_SETS and 'classes' not in spec:
        cls, img_path = BUILTIN_SETS[name]
        resolved = dict(classes=cls.METAINFO['classes'], palette=cls.METAINFO['palette'],
                        data_root=data_root, img_path=img_path,
                        seg_map_path=f'SAMRS/{name}/gray', ann_file=f'SAMRS/{name}/{{split}}.txt')
    else:
        missing = [key for key in ('classes', 'data_root') if key not in spec]
        if missing:
            raise ValueError(
                f'SAMRS set {name!r} is not built-in ({", ".join(BUILTIN_SETS)}): give its '
                f'{" and ".join(missing)} (fields: {list(SET_FIELDS)})')
        resolved = dict(palette=make_palette(len(spec['classes'])), img_path='images',
                        seg_map_path='gray', ann_file='{split}.txt')
    resolved.update(spec, img_suffix=spec.get('img_suffix'))
    classes = resolved['classes']
    if isinstance(classes, str) or not all(isinstance(c, str) for c in classes):
        raise ValueError(f'SAMRS set {name!r}: classes must be a list of class names, got '
                         f'{classes!r}')
    resolved['classes'] = tuple(classes)
    if len(resolved['palette']) != len(resolved['classes']):
        raise ValueError(f'SAMRS set {name!r}: {len(resolved["palette"])} palette colours '
                         f'for {len(resolved["classes"])} classes')
    return resolved


def resolve_sets(specs: Sequence[SetSpec], data_root: str = 'data') -> List[Dict[str, Any]]:
    """:func:`resolve_set` of each spec; at least one set, names unique."""
    if isinstance(specs, (str, Mapping)) or not specs:
        raise ValueError(f'samrs_sets must be a non-empty list of set names or dicts, got '
                         f'{specs!r}')
    sets = [resolve_set(spec, data_root) for spec in specs]
    names = [s['name'] for s in sets]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'samrs_sets names a set more than once: {repeated}')
    return sets


def set_heads(specs: Sequence[SetSpec]) -> Dict[str, int]:
    """Set name -> number of classes: the ``heads`` of a multi-head segmentor."""
    return {s['name']: len(s['classes']) for s in resolve_sets(specs)}


@DATASETS.register_module()
class SAMRSMultiSetDataset(ConcatDataset):
    """The split ``split`` of each set of ``sets``, concatenated in their order.

    Each set is a :class:`~mmsamrs.datasets.samrs.SAMRSDataset` (with the set's classes,
    palette and name as metainfo) reading
    ``<data_root>/<ann_file with split>`` (one image stem per line), its images from
    ``img_path`` and labels from ``seg_map_path``; all sets share ``pipeline``. The metainfo
    lists the sets, ``metainfo['sets'] = {name: dict(classes=..., palette=...)}``, which is
    what ``MultiSetIoUMetric`` scores and ``SAMRSVisualizationHook`` draws by.
    ``ProportionalMultiSourceSampler`` composes batches from the sets by their sizes.

    Config (``train_dataloader.dataset``, ``val_dataloader.dataset``)::

        dict(type='SAMRSMultiSetDataset', sets=['SOTA', 'SIOR'], split='train',
             data_root='data', pipeline=train_pipeline)

    Args:
        sets: set names or dicts (module docstring); in SEP configs, the runner fills it in
            from the config's ``samrs_sets`` (:class:`mmsamrs.engine.SEPRunner`).
        split: split name put into each set's ``ann_file`` (``'train'``, ``'val'``).
        pipeline: the data pipeline of every set.
        data_root: data root of the built-in sets that do not set their own.
        lazy_init: as mmengine's ``ConcatDataset``.
    """

    def __init__(self, sets: Sequence[SetSpec], split: str, pipeline: List[dict],
                 data_root: str = 'data', lazy_init: bool = False) -> None:
        self.sets = resolve_sets(sets, data_root)
        datasets = [self.set_dataset(spec, split, pipeline) for spec in self.sets]
        super().__init__(datasets, lazy_init=lazy_init,
                         ignore_keys=['classes', 'palette', 'dataset_name'])
        self._metainfo = dict(sets={
            s['name']: dict(classes=s['classes'], palette=s['palette']) for s in self.sets})

    @staticmethod
    def set_dataset(spec: Mapping[str, Any], split: str, pipeline: List[dict]) -> SAMRSDataset:
        """The dataset of one resolved set and split."""
        return SAMRSDataset(
            data_root=spec['data_root'], ann_file=spec['ann_file'].format(split=split),
            data_prefix=dict(img_path=spec['img_path'], seg_map_path=spec['seg_map_path']),
            img_suffix=spec['img_suffix'], pipeline=pipeline,
            metainfo=dict(classes=spec['classes'], palette=spec['palette'],
                          dataset_name=spec['name']))

    @property
    def metainfo(self) -> dict:
        """``dict(sets={name: dict(classes, palette)})``, in the sets' order."""
        return dict(sets={name: dict(meta) for name, meta in self._metainfo['sets'].items()})
