"""LoadInstanceMasks (HRSC seg_color and iSAID instance ids) and their packing."""
import numpy as np
import pytest
from PIL import Image

from mmsamrs.datasets.sources import load_hrsc_instance_masks
from mmsamrs.datasets.transforms import LoadInstanceMasks, PackSAMInputs, SAMPrompts
from mmsamrs.registry import TRANSFORMS


def paste(crops, offsets, shape):
    """Full ``(N, H, W)`` masks of crops."""
    masks = np.zeros((len(crops), *shape), dtype=bool)
    for mask, crop, (x0, y0) in zip(masks, crops, offsets):
        mask[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    return masks


def state(path, instances, shape=(40, 60)):
    """Pipeline results after image loading."""
    return dict(img=np.zeros((*shape, 3), np.uint8), img_shape=shape, ori_shape=shape,
                img_path='/data/a.png', img_id='a', seg_map_path=str(path),
                instances=instances)


def test_hrsc_colours_equal_load_hrsc_instance_masks(tmp_path):
    seg = np.zeros((40, 60, 3), dtype=np.uint8)
    seg[5:15, 10:30] = (255, 0, 0)
    seg[20:22, 40:59] = (0, 128, 255)
    seg[30, 0] = (255, 0, 1)  # a colour of no instance
    Image.fromarray(seg).save(tmp_path / 'seg.png')
    colors = [(255, 0, 0), None, (0, 128, 255), (1, 2, 3)]
    instances = [dict(bbox=[0, 0, 1, 1], bbox_label=0, seg_color=c) for c in colors]
    results = TRANSFORMS.build(dict(type='LoadInstanceMasks'))(
        state(tmp_path / 'seg.png', instances))
    crops, offsets = results['gt_mask_crops'], results['gt_mask_offsets']
    assert offsets.dtype == np.int64 and offsets.tolist() == [[10, 5], [0, 0], [40, 20],
                                                              [0, 0]]
    assert [c.shape for c in crops] == [(10, 20), (0, 0), (2, 19), (0, 0)]
    np.testing.assert_array_equal(paste(crops, offsets, (40, 60)),
                                  load_hrsc_instance_masks(tmp_path / 'seg.png', colors))


def test_isaid_instance_ids_use_all_three_channels(tmp_path):
    ids = np.zeros((40, 60), dtype=np.int64)
    ids[0:3, 0:4] = 1
    ids[10:12, 20:21] = 5 + 256 * 2  # R=5, G=2
    ids[30:40, 50:60] = 65536 * 7 + 3  # R=3, B=7
    ids[35, 55] = 0  # a hole
    rgb = np.stack([ids & 255, (ids >> 8) & 255, ids >> 16], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'ids.png')
    instances = [dict(bbox=[0, 0, 1, 1], bbox_label=0, instance_id=i)
                 for i in (65536 * 7 + 3, 1, 517, 99)]
    results = LoadInstanceMasks()(state(tmp_path / 'ids.png', instances))
    masks = paste(results['gt_mask_crops'], results['gt_mask_offsets'], (40, 60))
    for mask, instance in zip(masks, instances):
        np.testing.assert_array_equal(mask, ids == instance['instance_id'])
    assert results['gt_mask_crops'][0].sum() == 99 and results['gt_mask_crops'][3].size == 0


def test_images_without_masks_and_failures(tmp_path):
    instances = [dict(bbox=[0, 0, 1, 1], bbox_label=0, seg_color=(1, 2, 3))]
    results = state(tmp_path / 'x.png', instances)
    del results['seg_map_path']  # an HRSC image that is not segmented
    results = LoadInstanceMasks()(results)
    assert [c.shape for c in results['gt_mask_crops']] == [(0, 0)]
    assert results['gt_mask_offsets'].shape == (1, 2)

    missing = LoadInstanceMasks()(state(tmp_path / 'missing.png', list(instances)))
    assert 'cannot read instance masks' in missing['load_error']
    assert missing['instances'] == [] and missing['gt_mask_crops'] == []

    Image.new('RGB', (30, 40)).save(tmp_path / 'small.png')
    wrong = LoadInstanceMasks()(state(tmp_path / 'small.png', list(instances)))
    assert 'are 30x40 (WxH) but the image is 60x40' in wrong['load_error']

    failed = state(tmp_path / 'missing.png', [])
    failed['load_error'] = 'cannot read image /data/a.png'
    assert LoadInstanceMasks()(failed)['gt_mask_offsets'].shape == (0, 2)


def test_packed_as_numpy_only_when_loaded(tmp_path):
    seg = np.zeros((40, 60, 3), dtype=np.uint8)
    seg[5:15, 10:30] = (255, 0, 0)
    Image.fromarray(seg).save(tmp_path / 'seg.png')
    instances = [dict(bbox=[10., 5., 30., 15.], bbox_label=0, seg_color=(255, 0, 0)),
                 dict(bbox=[1., 1., 5., 5.], bbox_label=0, seg_color=None)]
    prompts = SAMPrompts(prompts='H-Box')
    results = prompts(LoadInstanceMasks()(state(tmp_path / 'seg.png', instances)))
    sample = PackSAMInputs()(results)['data_samples']
    assert isinstance(sample.gt_mask_offsets, np.ndarray)
    assert sample.gt_mask_offsets.tolist() == [[10, 5], [0, 0]]
    assert [c.sum() for c in sample.gt_mask_crops] == [200, 0]
    plain = PackSAMInputs()(prompts(state(tmp_path / 'seg.png', instances)))['data_samples']
    assert 'gt_mask_crops' not in plain and 'gt_mask_offsets' not in plain
    results['gt_mask_crops'] = results['gt_mask_crops'][:1]
    with pytest.raises(ValueError, match='gt_mask_crops has 1 rows for 2 instances'):
        PackSAMInputs()(results)
