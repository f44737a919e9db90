"""RandomRotate90 keeps image and labels aligned; RandomGamma follows its formula;
RandomRescale scales each image relative to its own size."""
from collections import Counter

import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from mmsamrs.datasets.transforms import RandomGamma, RandomRotate90
from mmsamrs.registry import TRANSFORMS

H, W = 3, 5


def sample() -> dict:
    """An asymmetric 3x5 label map and an image whose channels encode it (10 * label + c)."""
    label = np.arange(H * W, dtype=np.uint8).reshape(H, W)
    img = np.stack([label * 10 + c for c in range(3)], axis=-1).astype(np.uint8)
    return dict(img=img, gt_seg_map=label.copy(), gt_edge_map=(label * 7) % 16,
                seg_fields=['gt_seg_map', 'gt_edge_map'], img_shape=(H, W))


def turn_of(original: np.ndarray, turned: np.ndarray) -> int:
    """The k with ``np.rot90(original, k) == turned`` (unique for an asymmetric map)."""
    (k, ) = [k for k in range(4) if np.array_equal(np.rot90(original, k), turned)]
    return k


def test_rotate90_keeps_image_and_all_seg_fields_aligned():
    np.random.seed(0)
    transform = RandomRotate90(prob=1.0)
    seen = Counter()
    for _ in range(400):
        before = sample()
        out = transform(sample())
        k = turn_of(before['gt_seg_map'], out['gt_seg_map'])
        seen[k] += 1
        assert turn_of(before['img'], out['img']) == k
        assert turn_of(before['gt_edge_map'], out['gt_edge_map']) == k
        np.testing.assert_array_equal(out['img'][..., 0] // 10, out['gt_seg_map'])
        assert out['img_shape'] == out['img'].shape[:2] == ((W, H) if k % 2 else (H, W))
        assert out['img'].flags['C_CONTIGUOUS'] and out['gt_seg_map'].flags['C_CONTIGUOUS']
    assert set(seen) == {0, 1, 2, 3} and all(60 < n < 140 for n in seen.values())


def test_rotate90_turns_counter_clockwise_and_prob_zero_does_nothing():
    transform = RandomRotate90(prob=1.0)
    transform._draw_k = lambda: 1
    out = transform(dict(img=np.array([[1, 2], [3, 4]], np.uint8)[..., None],
                         gt_seg_map=np.array([[1, 2], [3, 4]], np.uint8),
                         seg_fields=['gt_seg_map']))
    assert out['gt_seg_map'].tolist() == [[2, 4], [1, 3]]
    assert out['img'][..., 0].tolist() == [[2, 4], [1, 3]]
    still = RandomRotate90(prob=0.0)
    for _ in range(20):
        np.testing.assert_array_equal(still(sample())['gt_seg_map'], sample()['gt_seg_map'])
    with pytest.raises(ValueError, match='prob'):
        RandomRotate90(prob=1.5)


def test_gamma_formula_on_known_values():
    img = np.array([[0, 64, 128, 255]], dtype=np.uint8)[..., None]
    darker = RandomGamma(gamma_range=(2.0, 2.0), prob=1.0)(dict(img=img.copy()))['img']
    # 255 * (64/255)^2 = 16.06, 255 * (128/255)^2 = 64.25
    assert darker.dtype == np.uint8 and darker[..., 0].tolist() == [[0, 16, 64, 255]]
    brighter = RandomGamma(gamma_range=(0.5, 0.5), prob=1.0)(dict(img=img.copy()))['img']
    # 255 * (64/255)^0.5 = 127.75, 255 * (128/255)^0.5 = 180.67
    assert brighter[..., 0].tolist() == [[0, 128, 181, 255]]
    floats = np.array([0, 63.75, 255, 300, -5], dtype=np.float32)
    out = RandomGamma(gamma_range=(2.0, 2.0), prob=1.0)(dict(img=floats))['img']
    np.testing.assert_allclose(out, [0, 15.9375, 255, 255, 0], rtol=1e-6)
    assert out.dtype == np.float32


def test_gamma_draws_within_range_and_respects_prob():
    np.random.seed(1)
    img = np.full((1, 1, 1), 128, np.uint8)
    low, high = round(255 * (128 / 255)**1.2), round(255 * (128 / 255)**0.8)
    values = {int(RandomGamma((0.8, 1.2), prob=1.0)(dict(img=img.copy()))['img'][0, 0, 0])
              for _ in range(200)}
    assert min(values) >= low and max(values) <= high and len(values) > 10
    assert all(RandomGamma(prob=0.0)(dict(img=img.copy()))['img'][0, 0, 0] == 128
               for _ in range(20))
    with pytest.raises(ValueError, match='gamma_range'):
        RandomGamma(gamma_range=(0.0, 1.0))


def test_documented_sep_pipeline_builds_and_keeps_labels():
    init_default_scope('mmsamrs')
    pipeline = Compose([
        dict(type='RandomApply', prob=0.5, transforms=[dict(
            type='RandomResize', scale=(600, 600), ratio_range=(0.5, 2.0), keep_ratio=True)]),
        dict(type='RandomCrop', crop_size=(224, 224)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandomFlip', prob=0.5, direction='vertical'),
        dict(type='RandomRotate90', prob=0.5),
        dict(type='RandomApply', prob=0.3, transforms=[dict(type='RandomChoice', transforms=[
            [dict(type='PhotoMetricDistortion')], [dict(type='RandomGamma', prob=1.0)]])]),
    ])
    np.random.seed(2)
    label = np.full((600, 600), 255, np.uint8)
    label[:300, :300] = 3
    label[300:, 300:] = 36
    for _ in range(5):
        out = pipeline(dict(img=np.full((600, 600, 3), 100, np.uint8), gt_seg_map=label.copy(),
                            seg_fields=['gt_seg_map'], img_shape=(600, 600),
                            ori_shape=(600, 600)))
        assert out['img'].shape == (224, 224, 3) and out['gt_seg_map'].shape == (224, 224)
        assert set(np.unique(out['gt_seg_map'])) <= {3, 36, 255}


def test_random_rescale_is_random_resize_to_the_image_own_size():
    init_default_scope('mmsamrs')
    """On an S x S image: mmcv's RandomResize(scale=(S, S)) with the same draws; on any
    image: the aspect ratio kept, the factor within ratio_range."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    labels = rng.integers(0, 5, (80, 80), dtype=np.uint8)
    reference = TRANSFORMS.build(dict(type='RandomResize', scale=(80, 80),
                                      ratio_range=(0.5, 2.0), keep_ratio=True))
    rescale = TRANSFORMS.build(dict(type='RandomRescale', ratio_range=(0.5, 2.0)))
    sizes = set()
    for seed in range(5):
        outputs = []
        for transform in (reference, rescale):
            np.random.seed(seed)
            outputs.append(transform(dict(img=image.copy(), gt_seg_map=labels.copy(),
                                          img_shape=(80, 80), seg_fields=['gt_seg_map'])))
        for key in ('img', 'gt_seg_map'):
            np.testing.assert_array_equal(outputs[0][key], outputs[1][key])
        sizes.add(outputs[1]['img'].shape[0])
    assert len(sizes) == 5 and all(40 <= size <= 160 for size in sizes)
    wide = rescale(dict(img=np.zeros((30, 90, 3), np.uint8), img_shape=(30, 90)))
    height, width = wide['img'].shape[:2]
    assert width == 3 * height and 15 <= height <= 60 and wide['img_shape'] == (height, width)
    with pytest.raises(ValueError, match='ratio_range'):
        TRANSFORMS.build(dict(type='RandomRescale', ratio_range=(2.0, 0.5)))
