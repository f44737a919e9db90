"""Tests of the SAM prompt transform against hand-computed geometry."""
import math
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
from segment_anything.utils.transforms import ResizeLongestSide

from mmsamrs.datasets.transforms import SAMPrompts, parse_prompt_setting
from mmsamrs.registry import TRANSFORMS
from mmsamrs.structures import quad_to_hbox, rasterize_quads

V = 1000.0
# A 600 (H) x 800 (W) image: SAM resizes it by 1024 / 800 = 1.28 to 768 x 1024.
H, W, S = 600, 800, 1.28

# Table 1 of the paper, row by row, and the names they must parse to.
TABLE1 = {
    'CP': ('cp', ),
    'H-Box': ('hbox', ),
    'H-Box-M': ('hbox_mask', ),
    'CP+H-Box': ('cp', 'hbox'),
    'H-Box+H-Box-M': ('hbox', 'hbox_mask'),
    'CP+H-Box-M': ('cp', 'hbox_mask'),
    'CP+H-Box+H-Box-M': ('cp', 'hbox', 'hbox_mask'),
    'R-Box-M': ('rbox_mask', ),
    'CP+R-Box-M': ('cp', 'rbox_mask'),
    'RH-Box': ('rhbox', ),
    'RH-Box-M': ('rhbox_mask', ),
    'CP+RH-Box': ('cp', 'rhbox'),
    'RH-Box+RH-Box-M': ('rhbox', 'rhbox_mask'),
    'CP+RH-Box-M': ('cp', 'rhbox_mask'),
    'CP+RH-Box+RH-Box-M': ('cp', 'rhbox', 'rhbox_mask'),
}


def rotated_corners(cx, cy, w, h, angle):
    """Corners of a rotated box by trigonometry (w side along (cos a, sin a))."""
    ux, uy = math.cos(angle) * w / 2, math.sin(angle) * w / 2
    vx, vy = -math.sin(angle) * h / 2, math.cos(angle) * h / 2
    return [cx + ux + vx, cy + uy + vy, cx - ux + vx, cy - uy + vy,
            cx - ux - vx, cy - uy - vy, cx + ux - vx, cy + uy - vy]


def make_results(instances, height=H, width=W):
    return dict(img_path='demo/P0001.png', img_shape=(height, width), instances=instances)


def run(prompts, instances, **kwargs):
    return SAMPrompts(prompts=prompts)(make_results(instances, **kwargs))


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize('setting,expected', TABLE1.items())
def test_table1_settings_parse_and_build(setting, expected):
    assert parse_prompt_setting(setting) == expected
    assert SAMPrompts(prompts=setting).prompts == expected
    assert SAMPrompts(prompts=list(reversed(expected))).prompts == expected


def test_parse_accepts_both_spellings_any_case():
    assert parse_prompt_setting(' cp + rh-box-m ') == ('cp', 'rhbox_mask')
    assert parse_prompt_setting(['RH-Box-M', 'rhbox', 'CP']) == ('cp', 'rhbox', 'rhbox_mask')
    assert parse_prompt_setting(('hbox_mask', )) == ('hbox_mask', )


@pytest.mark.parametrize('setting,message', [
    (('hbox', 'rhbox'), 'at most one box'),
    ('H-Box-M+R-Box-M', 'at most one mask'),
    ('RH-Box-M+rhbox_mask', 'repeated'),
    ('CP+CP', 'repeated'),
    ('R-Box', 'no rotated-box prompt'),
    ('CP+bbox', 'unknown prompt'),
    ((), 'at least one'),
])
def test_invalid_settings_raise_at_construction(setting, message):
    with pytest.raises(ValueError, match=message):
        SAMPrompts(prompts=setting)


def test_invalid_sizes_raise():
    with pytest.raises(ValueError, match='divisor'):
        SAMPrompts(mask_size=300)
    with pytest.raises(ValueError, match='positive'):
        SAMPrompts(mask_value=0)


def test_built_from_config_registry():
    transform = TRANSFORMS.build(dict(type='SAMPrompts', prompts=('rhbox', )))
    assert isinstance(transform, SAMPrompts)
    assert transform.prompts == ('rhbox', )
    assert 'rhbox' in repr(transform)


# ---------------------------------------------------------------- boxes and points


def test_rhbox_of_rotated_box_by_hand():
    # w=100, h=20 rotated by 30 degrees about (400, 300): the circumscribed box has
    # half-width 50 cos30 + 10 sin30 = 48.3013 and half-height 50 sin30 + 10 cos30 = 33.6603.
    rbox = [400, 300, 100, 20, math.radians(30)]
    rhbox = np.array([351.69873, 266.33975, 448.30127, 333.66025])
    for key, box in (('rbox', rbox), ('qbox', rotated_corners(*rbox))):
        out = run(('rhbox', ), [dict(bbox=[0, 0, 1, 1], **{key: box}, bbox_label=0)])
        assert out['sam_input_shape'] == (768, 1024)
        assert out['prompt_boxes'].dtype == np.float32
        np.testing.assert_allclose(out['prompt_boxes'], [rhbox * S], atol=1e-3)
        np.testing.assert_allclose(out['prompt_boxes'][0],
                                   [450.1744, 340.9149, 573.8256, 427.0851], atol=1e-3)
        assert 'prompt_points' not in out and 'prompt_masks' not in out


def test_rhbox_is_clipped_to_the_image():
    # the same box centred at (10, 590) sticks out left and below: clip, then scale
    rbox = [10, 590, 100, 20, math.radians(30)]
    out = run('RH-Box', [dict(bbox=[0, 556, 58, 600], rbox=rbox)])
    expected = np.array([0, 590 - 33.66025, 10 + 48.30127, 600]) * S
    np.testing.assert_allclose(out['prompt_boxes'][0], expected, atol=1e-3)


def test_rhbox_of_real_hrsc_annotation(realdata):
    root = ET.parse(realdata / 'hrsc' / 'Annotations' / '100000006.xml').getroot()
    width = int(root.findtext('Img_SizeWidth'))
    height = int(root.findtext('Img_SizeHeight'))
    obj = root.find('HRSC_Objects/HRSC_Object')
    cx, cy, w, h, a = (float(obj.findtext(f'mbox_{k}')) for k in ('cx', 'cy', 'w', 'h', 'ang'))
    bbox = [float(obj.findtext(f'box_{k}')) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
    ex = abs(w / 2 * math.cos(a)) + abs(h / 2 * math.sin(a))
    ey = abs(w / 2 * math.sin(a)) + abs(h / 2 * math.cos(a))
    # this ship's R-Box reaches below the image (cy + ey > height): RH-Box is clipped
    assert cy + ey > height
    rhbox = [cx - ex, cy - ey, cx + ex, min(cy + ey, height)]
    out = run('CP+RH-Box', [dict(bbox=bbox, rbox=[cx, cy, w, h, a])], height=height,
              width=width)
    newh, neww = ResizeLongestSide.get_preprocess_shape(height, width, 1024)
    scale = np.array([neww / width, newh / height])
    np.testing.assert_allclose(out['prompt_boxes'][0], np.array(rhbox) * np.tile(scale, 2),
                               atol=1e-3)
    # CP of a rotated setting is the R-Box centre, not the (different) H-Box centre
    np.testing.assert_allclose(out['prompt_points'][0, 0], np.array([cx, cy]) * scale,
                               atol=1e-3)
    h_centre = (np.array(bbox[:2]) + bbox[2:]) / 2 * scale
    assert np.abs(out['prompt_points'][0, 0] - h_centre).max() > 5


def test_centre_point_values():
    inst = dict(bbox=[100, 50, 300, 250], rbox=[220, 160, 100, 20, 0.5], bbox_label=3)
    out = run('CP+H-Box', [inst])
    np.testing.assert_allclose(out['prompt_points'], [[[200 * S, 150 * S]]], atol=1e-4)
    assert out['prompt_points'].dtype == np.float32
    assert out['prompt_point_labels'].dtype == np.int64
    np.testing.assert_array_equal(out['prompt_point_labels'], [[1]])
    np.testing.assert_allclose(out['prompt_boxes'], [[128, 64, 384, 320]], atol=1e-4)
    # with an R-Box-based prompt the point is the R-Box centre
    out = run('CP+R-Box-M', [inst])
    np.testing.assert_allclose(out['prompt_points'], [[[220 * S, 160 * S]]], atol=1e-4)
    assert 'prompt_boxes' not in out


def test_boxes_and_points_agree_with_segment_anything():
    rng = np.random.default_rng(0)
    height, width = 333, 517  # odd sizes: per-axis scales differ after rounding
    xy = rng.uniform(0, [width, height, width, height], size=(20, 4))
    hboxes = np.concatenate([np.minimum(xy[:, :2], xy[:, 2:]),
                             np.maximum(xy[:, :2], xy[:, 2:])], axis=1)
    out = run('CP+H-Box', [dict(bbox=b.tolist()) for b in hboxes], height=height,
              width=width)
    resizer = ResizeLongestSide(1024)
    assert out['sam_input_shape'] == resizer.get_preprocess_shape(height, width, 1024)
    expected = resizer.apply_boxes(hboxes, (height, width))
    np.testing.assert_allclose(out['prompt_boxes'], expected, rtol=0, atol=1e-4)
    centres = (hboxes[:, None, :2] + hboxes[:, None, 2:]) / 2
    np.testing.assert_allclose(out['prompt_points'],
                               resizer.apply_coords(centres, (height, width)), atol=1e-4)


# ---------------------------------------------------------------- mask prompts


def test_hbox_mask_layout_by_hand():
    # [100, 50, 300, 250] -> [128, 64, 384, 320] in SAM's frame -> cells [32:96, 16:80]
    # of the 256 grid; [0, 500, 800, 600] -> rows [160:192], below row 192 is padding
    out = run('H-Box-M', [dict(bbox=[100, 50, 300, 250]), dict(bbox=[0, 500, 800, 600])])
    masks = out['prompt_masks']
    assert masks.shape == (2, 1, 256, 256) and masks.dtype == np.float32
    expected = np.full((2, 1, 256, 256), -V, dtype=np.float32)
    expected[0, 0, 16:80, 32:96] = V
    expected[1, 0, 160:192, :] = V
    np.testing.assert_array_equal(masks, expected)
    assert masks[0, 0, 40, 50] == V and masks[0, 0, 40, 31] == -V  # inside / outside
    assert (masks[:, :, 192:] == -V).all()  # padded region of the 768 x 1024 image
    assert 'prompt_boxes' not in out and 'prompt_points' not in out


def test_rbox_mask_and_rhbox_mask_by_hand():
    rbox = [400, 300, 100, 20, math.radians(30)]
    inst = dict(bbox=[351.7, 266.3, 448.3, 333.7], qbox=rotated_corners(*rbox))
    rmask = run('R-Box-M', [inst])['prompt_masks'][0, 0]
    rhmask = run('RH-Box-M', [inst])['prompt_masks'][0, 0]
    assert set(np.unique(rmask)) == {-V, V} and set(np.unique(rhmask)) == {-V, V}
    # one cell = 4 px of SAM's frame = 3.125 px of the image; cell (row, col)
    assert rmask[96, 128] == V  # the centre (512, 384) in SAM's frame
    # 45 px from the centre along the long axis (+30 degrees) is inside; the mirror
    # point (-30 degrees) is not
    assert rmask[103, 140] == V
    assert rmask[88, 140] == -V
    # the top-left corner of the RH-Box lies outside the rotated box
    assert rmask[86, 113] == -V and rhmask[86, 113] == V
    # RH-Box-M covers exactly the cells of the RH-Box [450.17, 340.91, 573.83, 427.09]
    # at least half inside. Pixels 450..573 are inside, so column cells 112 (pixels
    # 448..451: two inside) to 143 (572..575: two inside); rows 341..426 give row
    # cells 85 (340..343: three inside) to 106 (424..427: three inside). The four corner
    # cells hold 2/4 x 3/4 = 3/8 inside and stay outside.
    expected = np.full((256, 256), -V)
    expected[85:107, 112:144] = V
    expected[[85, 85, 106, 106], [112, 143, 112, 143]] = -V
    np.testing.assert_array_equal(rhmask, expected)
    # the R-Box-M area is the rotated box area: 100 x 20 x 1.28^2 / 16 = 204.8 cells
    inside = rmask == V
    assert abs(inside.sum() - 204.8) < 8
    assert not (inside & (rhmask == -V)).any()


def test_rbox_mask_does_not_fill_the_padding():
    # a box reaching past the bottom of the image (y up to 700 > H = 600)
    qbox = [100, 550, 200, 550, 200, 700, 100, 700]
    masks = run('R-Box-M', [dict(bbox=[100, 550, 200, 600], qbox=qbox)])['prompt_masks']
    # columns 128/4=32 .. 256/4=64, rows 704/4=176 .. the image bottom 768/4=192
    assert (masks[0, 0, 176:192, 32:64] == V).all()
    assert (masks[0, 0, 192:, :] == -V).all()
    assert (masks[0, 0] == V).sum() == 16 * 32


def reference_mask_logits(quads, height, width):
    """The literal recipe: rasterise in the resized image, pad to 1024, area-resize."""
    resizer = ResizeLongestSide(1024)
    newh, neww = resizer.get_preprocess_shape(height, width, 1024)
    quads = resizer.apply_coords(np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2),
                                 (height, width))
    out = []
    for quad in quads:
        full = np.full((1024, 1024), -V, dtype=np.float32)
        full[:newh, :neww] = np.where(rasterize_quads(quad, (newh, neww))[0], V, -V)
        small = cv2.resize(full, (256, 256), interpolation=cv2.INTER_AREA)
        out.append(np.where(small >= 0, V, -V)[None])
    return np.array(out, dtype=np.float32).reshape(-1, 1, 256, 256)


def test_rbox_mask_matches_full_frame_recipe_on_real_dota(realdata):
    img = cv2.imread(str(realdata / 'dota' / 'images' / 'P0706.png'))
    height, width = img.shape[:2]
    lines = (realdata / 'dota' / 'labelTxt' / 'P0706.txt').read_text().splitlines()
    quads = np.array([line.split()[:8] for line in lines[2:]], dtype=np.float64)
    assert len(quads) == 536
    hboxes = quad_to_hbox(quads).clip(0, [width, height, width, height])
    instances = [dict(bbox=b.tolist(), qbox=q.tolist()) for b, q in zip(hboxes, quads)]
    out = run('R-Box-M', instances, height=height, width=width)
    np.testing.assert_array_equal(out['prompt_masks'],
                                  reference_mask_logits(quads, height, width))
    assert (out['prompt_masks'] == V).any(axis=(1, 2, 3)).mean() > 0.9


def test_masks_match_full_frame_recipe_out_of_image_quads():
    rng = np.random.default_rng(1)
    height, width = 333, 517
    rboxes = np.column_stack([
        rng.uniform(-40, [width + 40, height + 40], size=(30, 2)),
        rng.uniform(5, 200, size=(30, 2)),
        rng.uniform(-math.pi, math.pi, size=30)
    ])
    quads = np.array([rotated_corners(*r) for r in rboxes])
    instances = [dict(bbox=[0, 0, 1, 1], qbox=q.tolist()) for q in quads]
    out = run('R-Box-M', instances, height=height, width=width)
    np.testing.assert_array_equal(out['prompt_masks'],
                                  reference_mask_logits(quads, height, width))


def test_rasterize_quads_uses_pixel_centres():
    """The rasteriser behind the mask prompts (mmsamrs.structures.rasterize_quads)."""
    def cols(x1, x2):
        mask = rasterize_quads([x1, 10, x2, 10, x2, 20, x1, 20], (30, 30))[0]
        return np.flatnonzero(mask.any(axis=0)).tolist()

    assert cols(10, 20) == list(range(10, 20))  # centres 10.5 .. 19.5
    assert cols(10.9, 20.1) == list(range(11, 20))  # 10.5 < 10.9, 20.5 > 20.1
    assert cols(10.5, 11.5) == [10]  # left edge inclusive, right edge exclusive
    assert cols(-5, 3) == [0, 1, 2]
    left = rasterize_quads([0, 0, 10, 0, 10, 10, 0, 10], (20, 20))[0]
    right = rasterize_quads([10, 0, 20, 0, 20, 10, 10, 10], (20, 20))[0]
    assert left.sum() == right.sum() == 100 and not (left & right).any()
    # the 30-degree 100 x 20 box covers its area to within the boundary pixels
    quad = rotated_corners(400, 300, 100, 20, math.radians(30))
    assert abs(rasterize_quads(quad, (H, W)).sum() - 2000) < 10


# ---------------------------------------------------------------- edge cases


def test_missing_rotated_box_names_the_image():
    instances = [dict(bbox=[1, 2, 30, 40], bbox_label=0)]
    for setting in ('RH-Box', 'R-Box-M', 'CP+RH-Box-M'):
        with pytest.raises(KeyError, match=r"demo/P0001\.png.*instance 0.*'qbox' or 'rbox'"):
            run(setting, instances)
    assert run('CP+H-Box+H-Box-M', instances)['prompt_boxes'].shape == (1, 4)


@pytest.mark.parametrize('setting', list(TABLE1))
def test_zero_instances(setting):
    out = run(setting, [])
    assert out['sam_input_shape'] == (768, 1024)
    shapes = {k: out[k].shape for k in out if k.startswith('prompt_')}
    expected = {}
    if 'cp' in TABLE1[setting]:
        expected.update(prompt_points=(0, 1, 2), prompt_point_labels=(0, 1))
    if {'hbox', 'rhbox'} & set(TABLE1[setting]):
        expected['prompt_boxes'] = (0, 4)
    if any(p.endswith('_mask') for p in TABLE1[setting]):
        expected['prompt_masks'] = (0, 1, 256, 256)
    assert shapes == expected


def test_full_combination_outputs():
    inst = dict(bbox=[100, 50, 300, 250], rbox=[200, 150, 100, 20, 0.3])
    out = run('CP+RH-Box+RH-Box-M', [inst, inst])
    assert out['prompt_points'].shape == (2, 1, 2)
    assert out['prompt_boxes'].shape == (2, 4)
    assert out['prompt_masks'].shape == (2, 1, 256, 256)


def test_image_shape_from_height_width_and_missing():
    results = dict(height=600, width=800, instances=[dict(bbox=[100, 50, 300, 250])])
    out = SAMPrompts()(results)
    assert out['sam_input_shape'] == (768, 1024)
    np.testing.assert_allclose(out['prompt_boxes'], [[128, 64, 384, 320]], atol=1e-4)
    with pytest.raises(KeyError, match='img_shape'):
        SAMPrompts()(dict(img_path='x.png', instances=[]))


def test_custom_sizes():
    out = SAMPrompts('H-Box-M', target_length=512, mask_size=128, mask_value=5)(
        make_results([dict(bbox=[100, 50, 300, 250])]))
    # scale 512 / 800 = 0.64 -> [64, 32, 192, 160] -> cells [16:48, 8:40] of 128
    expected = np.full((1, 1, 128, 128), -5.0, dtype=np.float32)
    expected[0, 0, 8:40, 16:48] = 5.0
    np.testing.assert_array_equal(out['prompt_masks'], expected)
