"""ISPRS Potsdam and iSAID as fine-tuned in the paper (SPEC section 8, appendix A.6).

Both read the output of ``tools/dataset_converters/{potsdam,isaid}.py``: mmseg's
``img_dir/<split>`` + ``ann_dir/<split>`` layout of ``<name>.png`` crops, labels already in
the training classes (``uint8``, 255 = ignored), so ``reduce_zero_label`` is off. They are
mmseg's datasets with the paper's class lists:

* :class:`Potsdam5Dataset`: mmseg's ``PotsdamDataset`` without ``clutter`` (5 classes; mmseg's
  converter keeps clutter as a 6th class and reads boundaries as 0 with
  ``reduce_zero_label=True``).
* :class:`iSAID15Dataset`: mmseg's ``iSAIDDataset`` without ``background`` (15 classes;
  mmseg trains background as class 0). Labels are ``<name>.png`` beside the images' names
  (mmseg's converter writes ``<name>_instance_color_RGB.png``), so mmseg's own dataset does
  not silently read these labels with its 16-class meaning.
"""
from mmseg.datasets import iSAIDDataset, PotsdamDataset

from mmsamrs.registry import DATASETS


@DATASETS.register_module()
class Potsdam5Dataset(PotsdamDataset):
    """ISPRS Potsdam, 5 classes (clutter ignored); ``train_dataloader.dataset.type``.

    Config: ``dict(type='Potsdam5Dataset', data_root='data/potsdam',
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))``.
    """
    METAINFO = dict(classes=PotsdamDataset.METAINFO['classes'][:5],
                    palette=PotsdamDataset.METAINFO['palette'][:5])

    def __init__(self, reduce_zero_label: bool = False, **kwargs) -> None:
        super().__init__(reduce_zero_label=reduce_zero_label, **kwargs)


@DATASETS.register_module()
class iSAID15Dataset(iSAIDDataset):  # noqa: N801 (mmseg's spelling)
    """iSAID, the 15 foreground classes (background ignored); ``...dataset.type``.

    Config: ``dict(type='iSAID15Dataset', data_root='data/iSAID',
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))``.
    """
    METAINFO = dict(classes=iSAIDDataset.METAINFO['classes'][1:],
                    palette=iSAIDDataset.METAINFO['palette'][1:])

    def __init__(self, seg_map_suffix: str = '.png', **kwargs) -> None:
        super().__init__(seg_map_suffix=seg_map_suffix, **kwargs)
