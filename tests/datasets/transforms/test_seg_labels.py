"""LoadCheckedAnnotations and the label look-up table it shares with the datasets."""
import re

import numpy as np
import pytest
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from mmsamrs.datasets.transforms.seg_labels import (bad_file_values, label_lut,
                                                    LoadCheckedAnnotations)
from mmsamrs.registry import TRANSFORMS


def sample(path, **info) -> dict:
    return dict(seg_map_path=str(path), seg_fields=[], reduce_zero_label=False, **info)


@pytest.mark.parametrize('reduce_zero_label, label_map', [
    (False, None), (True, None), (False, {0: 255, 1: 0, 6: 255}), (True, {5: 255, 0: 3})])
def test_lut_maps_like_mmseg_load_annotations(tmp_path, reduce_zero_label, label_map):
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(ramp).save(tmp_path / 'ramp.png')
    results = LoadAnnotations()(dict(sample(tmp_path / 'ramp.png', label_map=label_map),
                                     reduce_zero_label=reduce_zero_label))
    np.testing.assert_array_equal(label_lut(reduce_zero_label, label_map)[ramp],
                                  results['gt_seg_map'])


def test_bad_file_values():
    lut = label_lut(True, {5: 255})  # mmseg's Potsdam files: 0-6, clutter 6
    assert bad_file_values([0, 1, 6, 7, 255, 7], 5, lut) == [7]
    assert bad_file_values([0, 4, 5, 255], 5, label_lut()) == [5]


def test_out_of_range_value_names_file_and_value(tmp_path):
    label = np.array([[0, 1], [2, 255]], np.uint8)
    Image.fromarray(label).save(tmp_path / 'ok.png')
    label[0, 1] = 9
    Image.fromarray(label).save(tmp_path / 'bad.png')
    transform = TRANSFORMS.build(dict(type='LoadCheckedAnnotations', num_classes=3))
    np.testing.assert_array_equal(transform(sample(tmp_path / 'ok.png'))['gt_seg_map'],
                                  [[0, 1], [2, 255]])
    with pytest.raises(ValueError, match=re.escape(
            f"{tmp_path / 'bad.png'}: label value(s) [9] in the file are neither one of the 3 "
            'classes (0-2 for training) nor 255 (ignored). Check how')):
        transform(sample(tmp_path / 'bad.png'))
    # the sample's num_classes wins; the value is reported as stored in the file (10, not 9)
    label[0, 1] = 10
    Image.fromarray(label).save(tmp_path / 'reduced.png')
    with pytest.raises(ValueError, match=r"\[10\] in the file.*label_layout='mmseg'"):
        LoadCheckedAnnotations()(dict(sample(tmp_path / 'reduced.png', num_classes=5,
                                             label_layout='mmseg'), reduce_zero_label=True))
    with pytest.raises(KeyError, match='needs the number of classes'):
        LoadCheckedAnnotations()(sample(tmp_path / 'ok.png'))
