"""Cropped post-processing equals SAM's full-resolution ``postprocess_masks`` + threshold."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from segment_anything.utils.transforms import ResizeLongestSide

from mmsamrs.models.sam import postprocess
from mmsamrs.models.sam.postprocess import (Resize1d, postprocess_masks_cropped,
                                            resize_window, upsample_window)

# non-square, portrait/landscape, up- and downsampled, tiny, and one exactly 1024
SHAPES = [(600, 600), (500, 730), (733, 411), (1500, 2100), (97, 64), (1024, 1024)]
FMA_CPU = torch.backends.cpu.get_cpu_capability() in ('AVX2', 'AVX512')


def low_res_logits(num: int, seed: int, newh: int, neww: int) -> torch.Tensor:
    """Logits like SAM's: blobs of many sizes (some cut by the image or padding border),
    a noise map with positives everywhere (random weights), and no positive at all."""
    gen = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(256.), torch.arange(256.), indexing='ij')
    centres = torch.rand(num, 2, generator=gen) * 256
    centres[:4] = torch.tensor([[0., 0.], [newh / 4 - 1, neww / 4 - 1], [255., 100.],
                                [100., neww / 4 + 3]])  # corners, padding border
    radius = torch.exp(torch.rand(num, generator=gen) * np.log(120.))
    dist = ((yy - centres[:, :1, None])**2 + (xx - centres[:, 1:, None])**2).sqrt()
    logits = (radius[:, None, None] - dist) / 4
    logits += 0.3 * torch.randn(num, 256, 256, generator=gen)
    logits[-2] = torch.randn(256, 256, generator=gen)
    logits[-1] = -torch.rand(256, 256, generator=gen)
    return logits[:, None]


def sam_masks(sam, logits, shape, threshold=0.0):
    """SAM's own path: full-resolution logits, then threshold."""
    input_size = ResizeLongestSide.get_preprocess_shape(*shape, 1024)
    return (sam.postprocess_masks(logits, input_size, shape) > threshold)[:, 0].numpy()


@pytest.mark.parametrize('shape', SHAPES)
def test_equals_sam_postprocess(tiny_model, sam_testing, shape):
    input_size = ResizeLongestSide.get_preprocess_shape(*shape, 1024)
    logits = low_res_logits(14, seed=sum(shape), newh=input_size[0], neww=input_size[1])
    crops, offsets = postprocess_masks_cropped(logits, input_size, shape)
    expected = sam_masks(tiny_model.sam, logits, shape)
    got = sam_testing.paste(dict(ori_shape=shape, mask_crops=crops, mask_offsets=offsets))
    assert np.array_equal(got, expected)
    assert offsets.dtype == np.int64 and offsets.shape == (14, 2)
    for crop, offset, mask in zip(crops, offsets, expected):
        assert crop.dtype == bool
        if not mask.any():
            assert crop.shape == (0, 0) and offset.tolist() == [0, 0]
            continue
        # tight: the crop is the mask's bounding box
        assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()
    assert not expected[-1].any() and expected[-2].mean() > 0.3  # empty and huge masks
    assert expected[0, 0, 0] and expected[1].any()  # the corner and border blobs exist


@pytest.mark.parametrize('ratio', [0.0, 1e9])
def test_window_and_full_paths_agree(tiny_model, sam_testing, monkeypatch, ratio):
    """Ratio 0 forces the window path for every object, 1e9 SAM's full computation."""
    monkeypatch.setattr(postprocess, 'WINDOW_COST_RATIO', ratio)
    shape = (733, 411)
    input_size = ResizeLongestSide.get_preprocess_shape(*shape, 1024)
    logits = low_res_logits(8, seed=1, newh=input_size[0], neww=input_size[1])
    crops, offsets = postprocess_masks_cropped(logits, input_size, shape)
    got = sam_testing.paste(dict(ori_shape=shape, mask_crops=crops, mask_offsets=offsets))
    assert np.array_equal(got, sam_masks(tiny_model.sam, logits, shape))


@pytest.mark.parametrize('threshold', [-0.5, 1.5])
def test_other_thresholds(tiny_model, sam_testing, threshold):
    shape = (500, 730)
    input_size = ResizeLongestSide.get_preprocess_shape(*shape, 1024)
    logits = low_res_logits(8, seed=2, newh=input_size[0], neww=input_size[1])
    crops, offsets = postprocess_masks_cropped(logits, input_size, shape, threshold=threshold)
    got = sam_testing.paste(dict(ori_shape=shape, mask_crops=crops, mask_offsets=offsets))
    assert np.array_equal(got, sam_masks(tiny_model.sam, logits, shape, threshold))


@pytest.mark.skipif(not FMA_CPU, reason='bit-exactness is for x86 builds with FMA')
@pytest.mark.parametrize('in_shape, out_shape', [((1024, 574), (733, 411)),
                                                 ((731, 1024), (1500, 2100)),
                                                 ((1024, 676), (97, 64))])
def test_window_values_are_bit_identical(in_shape, out_shape):
    gen = torch.Generator().manual_seed(0)
    image = torch.randn(in_shape, generator=gen)
    full = F.interpolate(image[None, None], out_shape, mode='bilinear', align_corners=False)[0, 0]
    rows = Resize1d(in_shape[0], out_shape[0], 'cpu')
    cols = Resize1d(in_shape[1], out_shape[1], 'cpu')
    assert torch.equal(resize_window(image, (0, 0), rows, (0, out_shape[0]), cols,
                                     (0, out_shape[1])), full)
    window = (out_shape[0] // 3, out_shape[0] // 2), (5, out_shape[1])
    (r_lo, r_hi), (c_lo, c_hi) = rows.source_span(*window[0]), cols.source_span(*window[1])
    part = resize_window(image[r_lo:r_hi, c_lo:c_hi], (r_lo, c_lo), rows, window[0], cols,
                         window[1])
    assert torch.equal(part, full[window[0][0]:window[0][1], window[1][0]:window[1][1]])


@pytest.mark.parametrize('window', [((0, 9), (0, 7)), ((41, 75), (122, 130)),
                                    ((1000, 1024), (3, 1021)), ((400, 404), (1020, 1024))])
def test_upsample_window_is_bit_identical(window):
    logits = torch.randn(256, 256, generator=torch.Generator().manual_seed(0))
    full = F.interpolate(logits[None, None], (1024, 1024), mode='bilinear',
                         align_corners=False)[0, 0]
    up = Resize1d(256, 1024, 'cpu')
    cells = [up.source_span(*window[0]), up.source_span(*window[1])]
    got = upsample_window(logits, cells, window, 4)
    assert torch.equal(got, full[window[0][0]:window[0][1], window[1][0]:window[1][1]])


def test_no_prompts_and_bad_shapes():
    crops, offsets = postprocess_masks_cropped(torch.zeros(0, 1, 256, 256), (1024, 683),
                                               (600, 400))
    assert crops == [] and offsets.shape == (0, 2)
    with pytest.raises(ValueError, match='power of two'):
        postprocess_masks_cropped(torch.zeros(1, 1, 300, 300), (1024, 683), (600, 400))
