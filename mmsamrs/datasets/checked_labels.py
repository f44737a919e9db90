"""Label layouts and label checks shared by the fine-tuning datasets
(:mod:`mmsamrs.datasets.potsdam`, :mod:`mmsamrs.datasets.isaid`).

Both read mmseg's ``img_dir/<split>`` + ``ann_dir/<split>`` layout of ``<name>.png`` crops
and train on the paper's classes. ``label_layout`` says which converter wrote the label
files: ``'mmsamrs'`` (default), ``tools/dataset_converters/{potsdam,isaid}.py`` of this
package, whose labels are the training classes and 255; ``'mmseg'``, mmseg's own converters,
whose values are mapped to those (each dataset's module says how).

Labels are checked, never passed to the loss out of range: a few label files spread
over the dataset are read when it is built (a wrong ``label_layout`` fails there, before
training starts), and ``LoadCheckedAnnotations`` checks every label as it is loaded; both
name the file and the value. A full read of every label up front would take minutes on
the real sets (tens of thousands of crops) at every start, so it is left to the loader,
which reads each label anyway.
"""
import os.path as osp
from typing import Dict, List, NamedTuple, Optional

import mmcv
import numpy as np
from mmengine import fileio

from .split_files import read_stems
from .transforms.seg_labels import bad_file_values, label_lut, label_value_error

CHECKED_UP_FRONT = 8  # label files read when a dataset is built, spread over the list


class LabelLayout(NamedTuple):
    """How a converter stored the labels: file suffix and the mapping to training labels
    (mmseg's ``label_map`` / ``reduce_zero_label``, applied by ``LoadAnnotations``)."""
    seg_map_suffix: str = '.png'
    label_map: Optional[Dict[int, int]] = None
    reduce_zero_label: bool = False


class CheckedLabelsMixin:
    """``label_layout``, the empty-dataset error and the up-front label check of the
    fine-tuning datasets; subclasses define ``LABEL_LAYOUTS`` (name -> :class:`LabelLayout`).

    Each sample gets ``num_classes`` and ``label_layout`` for ``LoadCheckedAnnotations``.
    """

    LABEL_LAYOUTS: Dict[str, LabelLayout] = {}

    def __init__(self, label_layout: str = 'mmsamrs', seg_map_suffix: Optional[str] = None,
                 **kwargs) -> None:
        if label_layout not in self.LABEL_LAYOUTS:
            raise ValueError(f'{type(self).__name__}: label_layout must be one of '
                             f'{list(self.LABEL_LAYOUTS)}, got {label_layout!r}')
        if 'reduce_zero_label' in kwargs:
            raise ValueError(f'{type(self).__name__}: label_layout sets reduce_zero_label; '
                             'do not set it')
        self.label_layout = label_layout
        layout = self.LABEL_LAYOUTS[label_layout]
        super().__init__(seg_map_suffix=seg_map_suffix or layout.seg_map_suffix,
                         reduce_zero_label=layout.reduce_zero_label, **kwargs)

    def load_data_list(self) -> List[dict]:
        """mmseg's ``(image, label)`` list; fails when empty; checks a few labels."""
        if self.ann_file and osp.isfile(self.ann_file) and not read_stems(self.ann_file):
            raise ValueError(f'{type(self).__name__}: split file (ann_file) '
                             f'{self.ann_file!r} lists no image; a dataset needs at least one')
        data_list = super().load_data_list()
        if not data_list:
            raise ValueError(f"{type(self).__name__}: no {self.img_suffix} image in "
                             f"{self.data_prefix['img_path']!r}")
        layout = self.LABEL_LAYOUTS[self.label_layout]
        if layout.label_map is not None and self.label_map is not None:
            raise ValueError(f'{type(self).__name__}: custom classes (metainfo) cannot be '
                             f'combined with label_layout={self.label_layout!r}')
        num_classes = len(self.metainfo['classes'])
        for info in data_list:
            info.update(num_classes=num_classes, label_layout=self.label_layout)
            if layout.label_map is not None:
                info['label_map'] = layout.label_map
        self._check_labels(data_list, num_classes)
        return data_list

    def _check_labels(self, data_list: List[dict], num_classes: int) -> None:
        """Read up to :data:`CHECKED_UP_FRONT` label files spread over ``data_list``."""
        if 'seg_map_path' not in data_list[0]:
            return
        lut = label_lut(data_list[0]['reduce_zero_label'], data_list[0]['label_map'])
        picks = np.unique(np.linspace(0, len(data_list) - 1, CHECKED_UP_FRONT).astype(int))
        for i in picks:
            path = data_list[i]['seg_map_path']
            label = mmcv.imfrombytes(fileio.get(path, backend_args=self.backend_args),
                                     flag='unchanged', backend='pillow')
            bad = bad_file_values(np.unique(label), num_classes, lut)
            if bad:
                raise label_value_error(path, bad, num_classes, self.label_layout)
