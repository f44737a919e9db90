"""ISPRS Potsdam as fine-tuned in the paper (appendix A.6, Table 3): 5 classes, ``clutter``
ignored (255).

``label_layout`` (:mod:`mmsamrs.datasets.checked_labels`) says which converter wrote the
labels:

* ``'mmsamrs'`` (default): ``tools/dataset_converters/potsdam.py``; labels 0-4 and 255.
* ``'mmseg'``: mmseg's ``tools/dataset_converters/potsdam.py``; 0 = no label (the black
  boundaries of the eroded labels), 1-6 = impervious surfaces, building, low vegetation,
  tree, car, clutter; 0 and clutter become 255, 1-5 become 0-4.
"""
from mmseg.datasets import PotsdamDataset

from mmsamrs.registry import DATASETS
from mmsamrs.utils import IGNORE_INDEX
from .checked_labels import CheckedLabelsMixin, LabelLayout


@DATASETS.register_module()
class Potsdam5Dataset(CheckedLabelsMixin, PotsdamDataset):
    """ISPRS Potsdam, 5 classes (clutter ignored); ``train_dataloader.dataset.type``.

    Config: ``dict(type='Potsdam5Dataset', data_root='data/potsdam',
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    label_layout='mmsamrs')`` (``'mmseg'``: labels of mmseg's converter; module docstring).
    """
    METAINFO = dict(classes=PotsdamDataset.METAINFO['classes'][:5],
                    palette=PotsdamDataset.METAINFO['palette'][:5])
    LABEL_LAYOUTS = dict(
        mmsamrs=LabelLayout(),
        mmseg=LabelLayout(label_map={0: IGNORE_INDEX, 1: 0, 2: 1, 3: 2, 4: 3, 5: 4,
                                    6: IGNORE_INDEX}))
