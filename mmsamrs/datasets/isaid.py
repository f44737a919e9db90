"""iSAID as fine-tuned in the paper (appendix A.6, Table 4): the 15 foreground classes,
``background`` ignored (255).

``label_layout`` (:mod:`mmsamrs.datasets.checked_labels`) says which converter wrote the
labels:

* ``'mmsamrs'`` (default): ``tools/dataset_converters/isaid.py``; labels 0-14 and 255, named
  ``<name>.png`` like the images, so mmseg's own ``iSAIDDataset`` does not silently read them
  with its 16-class meaning.
* ``'mmseg'``: mmseg's ``tools/dataset_converters/isaid.py``; labels
  ``<name>_instance_color_RGB.png``, 0 = background (-> 255), 1-15 = the classes (-> 0-14).
"""
from mmseg.datasets import iSAIDDataset

from mmsamrs.registry import DATASETS
from .checked_labels import CheckedLabelsMixin, LabelLayout


@DATASETS.register_module()
class iSAID15Dataset(CheckedLabelsMixin, iSAIDDataset):  # noqa: N801 (mmseg's spelling)
    """iSAID, the 15 foreground classes (background ignored); ``...dataset.type``.

    Config: ``dict(type='iSAID15Dataset', data_root='data/iSAID',
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    label_layout='mmsamrs')`` (``'mmseg'``: labels of mmseg's converter; module docstring).
    """
    METAINFO = dict(classes=iSAIDDataset.METAINFO['classes'][1:],
                    palette=iSAIDDataset.METAINFO['palette'][1:])
    LABEL_LAYOUTS = dict(
        mmsamrs=LabelLayout(),
        mmseg=LabelLayout(seg_map_suffix='_instance_color_RGB.png', reduce_zero_label=True))
