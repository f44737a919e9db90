"""Semantic label loading that refuses label values outside the dataset's classes.

A label value that is neither a class index nor the ignore index (255) would otherwise
reach the loss (``IndexError: Target 5 is out of bounds`` on CPU, a device-side assert on
GPU) or be silently skipped by the metric. :class:`LoadCheckedAnnotations` stops at the
file instead, naming it and the value.
"""
from typing import Iterable, List, Mapping, Optional

import numpy as np
from mmseg.datasets.transforms import LoadAnnotations

from mmsamrs.registry import TRANSFORMS
from mmsamrs.utils import IGNORE_INDEX


def label_lut(reduce_zero_label: bool = False,
              label_map: Optional[Mapping[int, int]] = None) -> np.ndarray:
    """The training label of each file value 0-255, as mmseg's ``LoadAnnotations`` maps
    it: ``reduce_zero_label`` first (0 -> 255, k -> k - 1), then ``label_map``."""
    lut = np.arange(256, dtype=np.uint8)
    if reduce_zero_label:
        lut[lut == 0] = 255
        lut = lut - 1
        lut[lut == 254] = 255
    if label_map:
        original = lut.copy()
        for old, new in label_map.items():
            lut[original == old] = new
    return lut


def bad_file_values(file_values: Iterable[int], num_classes: int, lut: np.ndarray) -> List[int]:
    """The ``file_values`` whose training label (``lut``) is neither a class nor 255."""
    values = np.asarray(sorted(set(int(v) for v in file_values)), dtype=np.int64)
    labels = lut[values]
    return values[(labels >= num_classes) & (labels != IGNORE_INDEX)].tolist()


def label_value_error(path: str, values: List[int], num_classes: int,
                      label_layout: Optional[str] = None) -> ValueError:
    """The error for a label file holding the file ``values`` that are not allowed."""
    if label_layout:
        hint = (f"They were read as label_layout={label_layout!r}: 'mmsamrs' reads the "
                "labels of mmsamrs' tools/dataset_converters, 'mmseg' those of mmseg's "
                'converters; set the one that wrote these files.')
    else:
        hint = 'Check how these labels were converted.'
    return ValueError(
        f'{path}: label value(s) {values} in the file are neither one of the '
        f'{num_classes} classes (0-{num_classes - 1} for training) nor {IGNORE_INDEX} '
        f'(ignored). {hint}')


@TRANSFORMS.register_module()
class LoadCheckedAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that refuses a label value outside the classes.

    Config (``pipeline`` of the fine-tuning datasets, in place of ``LoadAnnotations``)::

        dict(type='LoadCheckedAnnotations')

    The label is loaded and mapped as mmseg does (the sample's ``label_map`` and
    ``reduce_zero_label``); then every value must be a class index ``< num_classes`` or
    255. Otherwise a ``ValueError`` names the label file, the offending values as stored
    in the file, and the sample's ``label_layout`` when the dataset gives one. The
    number of classes is the sample's ``num_classes`` (``Potsdam5Dataset`` and
    ``iSAID15Dataset`` set it), else the ``num_classes`` argument. The check costs one
    histogram of the label.

    Args:
        num_classes: Number of classes for datasets that do not give ``num_classes``.
        **kwargs: As mmseg's ``LoadAnnotations``.
    """

    def __init__(self, num_classes: Optional[int] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes

    def _load_seg_map(self, results: dict) -> None:
        """Load the label as mmseg does, then check its values."""
        super()._load_seg_map(results)
        num_classes = results.get('num_classes', self.num_classes)
        if num_classes is None:
            raise KeyError(f"{results['seg_map_path']}: LoadCheckedAnnotations needs the "
                           "number of classes: a dataset that sets the samples' num_classes "
                           '(Potsdam5Dataset, iSAID15Dataset) or num_classes=... in the '
                           'transform')
        counts = np.bincount(results['gt_seg_map'].ravel(), minlength=256)
        present = np.flatnonzero(counts)
        wrong = present[(present >= num_classes) & (present != IGNORE_INDEX)]
        if wrong.size:
            lut = label_lut(results.get('reduce_zero_label', False), results.get('label_map'))
            raise label_value_error(results['seg_map_path'],
                                    np.flatnonzero(np.isin(lut, wrong)).tolist(),
                                    num_classes, results.get('label_layout'))
