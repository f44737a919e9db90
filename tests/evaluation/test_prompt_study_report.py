"""The prompt study's report files and predicted-mask files (mmsamrs.evaluation.prompt_study)."""
import csv
import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmsamrs.evaluation.prompt_study import (axis_top, bar_figure, image_masks, setting_masks,
                                             write_report, write_setting_masks)


def metrics(i, p):
    return {'mIoU_I': i, 'mIoU_P': p, 'images': 1, 'failed_images': 0, 'instances': 2,
            'without_mask': 0, 'mIoU_I/ship': i, 'mIoU_P/ship': p}


ROWS = {'H-Box': metrics(3.14159, 2.5), 'RH-Box': metrics(7.25, float('nan'))}
PER_INSTANCE = {name: [{'img_id': 'a', 'index': 0, 'label': 0, 'class': 'ship',
                        'intersection': 1, 'union': 4, 'iou': 0.25}] for name in ROWS}


def test_csv_and_tables_are_in_percent(tmp_path):
    markdown = write_report(str(tmp_path), {'vit_h': ROWS}, {'vit_h': PER_INSTANCE})
    assert '| H-Box |  | ✓ |  |  |  |  | 3.14 | 2.50 |' in markdown
    with open(tmp_path / 'prompt_study.csv', newline='') as f:
        table = list(csv.DictReader(f))
    assert float(table[0]['mIoU_I (%)']) == pytest.approx(3.1416)  # the same % as the table
    assert float(table[0]['mIoU_P (%)']) == 2.5
    with open(tmp_path / 'per_instance.csv', newline='') as f:
        records = list(csv.DictReader(f))
    assert [float(r['IoU (%)']) for r in records] == [25.0, 25.0]
    assert 'iou' not in records[0]


def test_several_models_get_a_column_group_and_timing_each(tmp_path):
    other = {'H-Box': metrics(50.0, 40.0), 'RH-Box': metrics(60.0, 55.5)}
    timing = {'vit_h': dict(images=2, encoder_s=3.0, decoder_s=1.0),
              'sam2.1_hiera_t': dict(images=2, encoder_s=1.0, decoder_s=0.5)}
    markdown = write_report(str(tmp_path), {'vit_h': ROWS, 'sam2.1_hiera_t': other},
                            {'vit_h': PER_INSTANCE, 'sam2.1_hiera_t': PER_INSTANCE}, timing)
    assert '| mIoU_P | vit_h mIoU_I' not in markdown
    assert ' | vit_h mIoU_I | vit_h mIoU_P | sam2.1_hiera_t mIoU_I | sam2.1_hiera_t mIoU_P |' \
        in markdown
    assert '| RH-Box |  |  |  |  | ✓ |  | 7.25 | n/a | 60.00 | 55.50 |' in markdown
    assert '| vit_h | 2 | 3.00 | 1.00 | 2.000 |' in markdown
    assert '| sam2.1_hiera_t | 2 | 1.00 | 0.50 | 0.750 |' in markdown
    with open(tmp_path / 'prompt_study.csv', newline='') as f:
        table = list(csv.DictReader(f))
    assert float(table[1]['sam2.1_hiera_t mIoU_P (%)']) == 55.5
    with open(tmp_path / 'per_instance.csv', newline='') as f:
        records = list(csv.DictReader(f))
    assert [r['model'] for r in records] == ['vit_h'] * 2 + ['sam2.1_hiera_t'] * 2
    rows = json.loads((tmp_path / 'prompt_study.json').read_text())
    assert [(r['model'], r['setting']) for r in rows][1:3] == [('vit_h', 'RH-Box'),
                                                                ('sam2.1_hiera_t', 'H-Box')]
    assert rows[2]['timing'] == timing['sam2.1_hiera_t']
    labels = [t.get_text() for t in bar_figure({'a': ROWS, 'b': other}).axes[0].texts]
    assert sorted(labels) == sorted(['3.14', '7.25', '2.50', 'n/a', '50.00', '60.00',
                                     '40.00', '55.50'])


def test_bar_plot_labels_values_and_scales_to_them():
    assert axis_top([3.14, 2.5, 7.25, float('nan')]) == 10
    assert axis_top([80.0]) == 100
    assert axis_top([float('nan')]) == 100
    figure = bar_figure({'vit_h': ROWS})
    (axes, ) = figure.axes
    assert axes.get_ylim() == (0, 10)  # 7.25 reaches most of the axis
    labels = [t.get_text() for t in axes.texts]
    assert sorted(labels) == sorted(['3.14', '7.25', '2.50', 'n/a'])


def test_predicted_masks_as_coco_rle(tmp_path):
    mask = np.zeros((3, 4), bool)
    mask[1:, 1:3] = True
    result = dict(img_id='b', img_path='/d/b.png', ori_shape=(10, 12), error=None,
                  labels=np.array([1, 0]), scores=np.array([0.91234, 0.5]),
                  mask_crops=[mask, np.zeros((0, 0), bool)],
                  mask_offsets=np.array([[5, 6], [0, 0]]))
    failed = dict(img_id='a', img_path='/d/a.png', ori_shape=(8, 8), error='unreadable',
                  labels=np.zeros(0, np.int64), scores=np.zeros(0), mask_crops=[],
                  mask_offsets=np.zeros((0, 2), np.int64))
    images = [image_masks(result), image_masks(failed)]
    path = write_setting_masks(str(tmp_path), 'CP+H-Box', images, ('ship', 'plane'))
    assert path == str(tmp_path / 'masks' / 'CP+H-Box.json')
    coco = json.loads(open(path).read())
    assert coco == setting_masks(images, ('ship', 'plane'))
    assert [(i['id'], i['img_id'], i['error']) for i in coco['images']] == [
        (1, 'a', 'unreadable'), (2, 'b', None)]
    assert coco['categories'] == [dict(id=1, name='ship'), dict(id=2, name='plane')]
    first, second = coco['annotations']
    assert (first['id'], first['image_id'], first['category_id'], first['source_index'],
            first['score'], first['area'], first['bbox']) == (1, 2, 2, 0, 0.9123, 4, [6, 7, 2, 2])
    full = np.zeros((10, 12), np.uint8)
    full[7:9, 6:8] = 1
    rle = dict(first['segmentation'], counts=first['segmentation']['counts'].encode())
    np.testing.assert_array_equal(mask_utils.decode(rle), full)
    assert second['area'] == 0 and second['category_id'] == 1
