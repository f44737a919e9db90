"""SAMDataPreprocessor equals SAM's own resize + normalise + pad, batched."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from segment_anything.utils.transforms import ResizeLongestSide

from mmsamrs.models.sam import SAMDataPreprocessor
from mmsamrs.registry import MODELS


def sam_reference(sam, bgr: torch.Tensor) -> torch.Tensor:
    """SAM's path for one uint8 BGR ``(3, H, W)`` image.

    ``ResizeLongestSide.apply_image_torch`` followed by ``Sam.preprocess``. Upstream
    ``apply_image_torch`` takes its target size from dims 0 and 1 of the ``BCHW`` batch
    (batch and channels, a known bug), so its body is run with the image's own size.
    """
    rgb = bgr.flip(0).float()[None]
    size = ResizeLongestSide.get_preprocess_shape(*bgr.shape[-2:], 1024)
    resized = F.interpolate(rgb, size, mode='bilinear', align_corners=False, antialias=True)
    return sam.preprocess(resized)[0]


def test_batch_equals_sam_preprocessing_per_image(tiny_model, sam_testing):
    samples = [sam_testing.make_sample(shape, seed=i)
               for i, shape in enumerate([(300, 500), (480, 360), (1024, 1024), (64, 1500)])]
    preprocessor = MODELS.build(dict(type='SAMDataPreprocessor'))
    out = preprocessor(pseudo_collate(samples))
    assert out['inputs'].shape == (4, 3, 1024, 1024) and out['inputs'].dtype == torch.float32
    assert out['data_samples'] is not None and len(out['data_samples']) == 4
    for batched, sample in zip(out['inputs'], samples):
        assert torch.equal(batched, sam_reference(tiny_model.sam, sample['inputs']))
        newh, neww = sample['data_samples'].sam_input_shape
        assert (batched[:, newh:] == 0).all() and (batched[:, :, neww:] == 0).all()


def test_channel_order_and_normalisation():
    image = torch.zeros(3, 2, 4, dtype=torch.uint8)
    image[0] = 255  # blue in BGR
    rgb = SAMDataPreprocessor().preprocess(image)
    bgr = SAMDataPreprocessor(bgr_to_rgb=False).preprocess(image)
    assert rgb.shape == (3, 1024, 1024)
    assert torch.allclose(rgb[:, 0, 0], torch.tensor([-123.675 / 58.395, -116.28 / 57.12,
                                                      (255 - 103.53) / 57.375]))
    assert torch.allclose(bgr[0, 0, 0], torch.tensor((255 - 123.675) / 58.395))
    assert (rgb[:, 512:] == 0).all()  # 2x4 resizes to 512x1024; the rest is padding


def test_prompts_made_for_another_size_are_rejected(sam_testing):
    sample = sam_testing.make_sample((300, 500))
    sample['data_samples'].set_metainfo(dict(sam_input_shape=(600, 1024)))
    with pytest.raises(ValueError, match='prompts were made for'):
        SAMDataPreprocessor()(pseudo_collate([sample]))


def test_images_without_data_samples():
    images = [torch.zeros(3, 5, 7, dtype=torch.uint8), torch.zeros(3, 9, 2, dtype=torch.uint8)]
    out = SAMDataPreprocessor()(dict(inputs=images))
    assert out['inputs'].shape == (2, 3, 1024, 1024) and out['data_samples'] is None
