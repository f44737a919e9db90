"""SAMRSVisualizer: registered, mmseg's add_datasample keeps 255 pixels, outlines instances."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from mmsamrs.datasets.class_names import make_palette
from mmsamrs.registry import VISUALIZERS
from mmsamrs.visualization import (SAMRSVisualizer, blend_labels, label_box_position,
                                   mask_outline)

PALETTE = [[255, 0, 0], [0, 0, 255]]


def sample():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    label = np.full((12, 16), 255, np.uint8)
    label[2:6, 3:9] = 0
    label[8:11, 10:15] = 1
    return image, label


def test_built_from_config_with_meta():
    vis = VISUALIZERS.build(dict(type='SAMRSVisualizer', name='vis_cfg', classes=('a', 'b'),
                                 palette=PALETTE, alpha=0.4))
    assert isinstance(vis, SAMRSVisualizer) and vis.alpha == 0.4
    assert vis.dataset_meta == {'classes': ['a', 'b'], 'palette': PALETTE}
    default = SAMRSVisualizer(name='vis_default', classes=('a', 'b', 'c'))
    assert default.dataset_meta['palette'] == make_palette(3)


def test_draw_samrs_blends_and_outlines():
    image, label = sample()
    vis = SAMRSVisualizer(name='vis_draw', classes=('a', 'b'), palette=PALETTE, alpha=0.5)
    np.testing.assert_array_equal(vis.draw_samrs(image, label),
                                  blend_labels(image, label, PALETTE, 0.5))
    mask = label == 1
    drawn = vis.draw_samrs(image, label, instances=[(mask, 1)])
    outline = mask_outline(mask)
    assert (drawn[outline] == PALETTE[1]).all()
    np.testing.assert_array_equal(drawn[~outline], blend_labels(image, label, PALETTE)[~outline])
    named = vis.draw_samrs(image, label, with_labels=True)
    assert named.shape == image.shape and not np.array_equal(named, drawn)


def test_add_datasample_keeps_unlabelled_pixels(tmp_path):
    image, label = sample()
    vis = SAMRSVisualizer(name='vis_hook', classes=('a', 'b'), palette=PALETTE, alpha=0.5)
    data = SegDataSample(gt_sem_seg=PixelData(data=torch.from_numpy(label[None].astype(np.int64))))
    out_file = tmp_path / 'gt.png'
    vis.add_datasample('x', image, data, with_labels=False, out_file=str(out_file))
    drawn = np.asarray(Image.open(out_file).convert('RGB'))
    labelled = label != 255
    np.testing.assert_array_equal(drawn[~labelled], image[~labelled])
    expected = (image * 0.5 + np.array(PALETTE)[np.minimum(label, 1)] * 0.5).astype(np.uint8)
    np.testing.assert_array_equal(drawn[labelled], expected[labelled])


def test_class_names_do_not_cover_the_objects():
    """Names are drawn inside the image, off every labelled pixel, when there is room."""
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    label = np.full((240, 320), 255, np.uint8)
    label[60:200, 40:200] = 0  # a large object in the middle-left
    label[10:40, 250:310] = 1  # a small one at the top right
    vis = SAMRSVisualizer(name='vis_names', classes=('storage-tank', 'b'), palette=PALETTE)
    plain = vis.draw_samrs(image, label)
    named = vis.draw_samrs(image, label, with_labels=True)
    changed = np.any(named != plain, axis=2)
    assert changed.sum() > 200  # both names are drawn
    assert not changed[label != 255].any()  # no object pixel is covered
    assert not changed[0].all() and not changed[:, 0].all()


def test_label_box_position():
    occupied = np.zeros((50, 80), bool)
    occupied[10:40, 10:70] = True
    x, y = label_box_position(occupied, (40, 25), (20, 8))
    assert not occupied[y:y + 8, x:x + 20].any()
    assert (y + 8 <= 10 or y >= 40)  # above or below the object, the nearest free place
    full = np.ones((30, 30), bool)
    assert label_box_position(full, (100, 100), (50, 10)) == (0, 20)  # clamped inside
