"""Potsdam5Dataset and iSAID15Dataset: label layouts, label checks, empty datasets."""
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.datasets import PotsdamDataset
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from mmsamrs.datasets import iSAID15Dataset, Potsdam5Dataset
from mmsamrs.registry import DATASETS

REPO = Path(__file__).resolve().parents[2]
CHECKED = [dict(type='LoadCheckedAnnotations')]
PREFIX = dict(img_path='img_dir', seg_map_path='ann_dir')
H, W = 4, 6


@pytest.fixture(autouse=True)
def mmsamrs_scope() -> None:
    init_default_scope('mmsamrs')


def read(path: Path) -> np.ndarray:
    return np.array(Image.open(path))


def crops(root: Path, labels, label_suffix: str = '.png') -> None:
    """``img_dir/c<i>.png`` and ``ann_dir/c<i><label_suffix>`` for each label array."""
    for sub in PREFIX.values():
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, label in enumerate(labels):
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / 'img_dir' / f'c{i:02d}.png')
        Image.fromarray(np.asarray(label, np.uint8)).save(
            root / 'ann_dir' / f'c{i:02d}{label_suffix}')


def test_mmseg_potsdam_sample_is_refused_by_default_and_read_with_label_layout(realdata,
                                                                                tmp_path):
    """The real crop converted by mmseg (0 = boundary, 1-6 = the six classes, clutter 6)
    once crashed the loss with 'Target 5 is out of bounds'."""
    root = realdata / 'potsdam'
    label_file = root / 'ann_dir' / '2_10_0_0_512_512.png'
    with pytest.raises(ValueError, match=re.escape(
            f"{label_file}: label value(s) [5] in the file are neither one of the 5 classes "
            "(0-4 for training) nor 255 (ignored). They were read as "
            "label_layout='mmsamrs'")):
        Potsdam5Dataset(data_root=str(root), data_prefix=PREFIX, pipeline=CHECKED)

    ours = Potsdam5Dataset(data_root=str(root), data_prefix=PREFIX, pipeline=CHECKED,
                           label_layout='mmseg')
    raw = read(label_file)
    label = ours[0]['gt_seg_map']
    assert set(np.unique(label)) == {0, 1, 2, 3, 4, 255}
    np.testing.assert_array_equal(label[raw == 0], 255)  # the boundaries
    np.testing.assert_array_equal(label[raw > 0], raw[raw > 0] - 1)
    assert (label == 4).sum() == 7841  # car, value 5 in the file
    # as mmseg's own PotsdamDataset reads it (reduce_zero_label), this crop having no clutter
    theirs = PotsdamDataset(data_root=str(root), data_prefix=PREFIX, pipeline=[LoadAnnotations()])
    np.testing.assert_array_equal(label, theirs[0]['gt_seg_map'])

    # clutter (6 in mmseg's files) is ignored, not a sixth class
    copy = tmp_path / 'potsdam'
    shutil.copytree(root, copy)
    with_clutter = raw.copy()
    with_clutter[:10, :10] = 6
    Image.fromarray(with_clutter).save(copy / 'ann_dir' / label_file.name)
    clutter = Potsdam5Dataset(data_root=str(copy), data_prefix=PREFIX, pipeline=CHECKED,
                              label_layout='mmseg')[0]['gt_seg_map']
    assert (clutter[:10, :10] == 255).all() and clutter.max() == 255


def test_every_loaded_label_is_checked(tmp_path):
    """Up front only a few spread files are read; the loader checks each one it loads."""
    good = np.array([[0, 1, 2, 3, 4, 255]] * H)
    bad = good.copy()
    bad[2, 3] = 7
    crops(tmp_path, [good, bad] + [good] * 18)
    dataset = Potsdam5Dataset(data_root=str(tmp_path), data_prefix=PREFIX, pipeline=CHECKED)
    np.testing.assert_array_equal(dataset[0]['gt_seg_map'], good)
    with pytest.raises(ValueError, match=re.escape(
            f"{tmp_path / 'ann_dir' / 'c01.png'}: label value(s) [7] in the file")):
        dataset[1]
    Image.fromarray(bad.astype(np.uint8)).save(tmp_path / 'ann_dir' / 'c19.png')
    with pytest.raises(ValueError, match=r"c19\.png: label value\(s\) \[7\]"):
        Potsdam5Dataset(data_root=str(tmp_path), data_prefix=PREFIX, pipeline=CHECKED)


def test_isaid_layouts(tmp_path):
    mmseg_label = np.array([list(range(6))] * H)
    mmseg_label[0] = [10, 11, 12, 13, 14, 15]
    crops(tmp_path / 'mmseg', [mmseg_label], '_instance_color_RGB.png')
    dataset = iSAID15Dataset(data_root=str(tmp_path / 'mmseg'), data_prefix=PREFIX,
                             pipeline=CHECKED, label_layout='mmseg')
    assert dataset.get_data_info(0)['seg_map_path'].endswith('c00_instance_color_RGB.png')
    expected = mmseg_label - 1
    expected[mmseg_label == 0] = 255  # background
    np.testing.assert_array_equal(dataset[0]['gt_seg_map'], expected)

    ours_label = np.array([[0, 14, 255, 15, 3, 3]] * H)  # 15 is past the 15 classes
    crops(tmp_path / 'ours', [ours_label])
    with pytest.raises(ValueError, match=r"c00\.png: label value\(s\) \[15\].*15 classes "
                       r"\(0-14 for training\)"):
        iSAID15Dataset(data_root=str(tmp_path / 'ours'), data_prefix=PREFIX, pipeline=CHECKED)


def test_empty_split_file_and_empty_folder_are_named(tmp_path):
    crops(tmp_path, [np.zeros((H, W))])
    (tmp_path / 'train.txt').write_text('\n')
    with pytest.raises(ValueError, match=re.escape(
            f"Potsdam5Dataset: split file (ann_file) {str(tmp_path / 'train.txt')!r} lists "
            'no image')):
        Potsdam5Dataset(data_root=str(tmp_path), data_prefix=PREFIX, ann_file='train.txt',
                        pipeline=CHECKED)
    (tmp_path / 'train.txt').write_text('c00\n')
    assert len(Potsdam5Dataset(data_root=str(tmp_path), data_prefix=PREFIX,
                               ann_file='train.txt', pipeline=CHECKED)) == 1
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match=re.escape(
            f"iSAID15Dataset: no .png image in {str(tmp_path / 'empty')!r}")):
        iSAID15Dataset(data_root=str(tmp_path), data_prefix=dict(PREFIX, img_path='empty'),
                       pipeline=CHECKED)


def test_bad_options_are_refused(tmp_path):
    crops(tmp_path, [np.zeros((H, W))])
    with pytest.raises(ValueError, match=r"label_layout must be one of \['mmsamrs', 'mmseg'\], "
                       "got 'mmseg_reduced'"):
        Potsdam5Dataset(data_root=str(tmp_path), data_prefix=PREFIX,
                        label_layout='mmseg_reduced')
    with pytest.raises(ValueError, match='label_layout sets reduce_zero_label'):
        Potsdam5Dataset(data_root=str(tmp_path), data_prefix=PREFIX, reduce_zero_label=True)


def test_config_training_pipeline_on_the_mmseg_sample_reaches_a_valid_loss(realdata):
    """The fine-tuning config's own training dataset on the real mmseg-converted crop."""
    cfg = Config.fromfile(
        REPO / 'configs' / 'finetune' / 'potsdam' / 'upernet_r50_1xb8-80k_potsdam-512x512.py')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=str(realdata / 'potsdam'), data_prefix=PREFIX)
    with pytest.raises(ValueError, match=r'label value\(s\) \[5\]'):
        DATASETS.build(dataset_cfg)
    dataset = DATASETS.build(dict(dataset_cfg, label_layout='mmseg'))
    target = dataset[0]['data_samples'].gt_sem_seg.data.long()
    assert set(target.unique().tolist()) <= {0, 1, 2, 3, 4, 255}
    loss = F.cross_entropy(torch.zeros(1, 5, *target.shape[1:]), target, ignore_index=255)
    assert torch.isfinite(loss)
