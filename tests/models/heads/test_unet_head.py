"""UNetHead: the paper's decoder widths and strides, and its head after the classifier."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmsamrs.models.heads import UNetHead
from mmsamrs.registry import MODELS

LEVELS = [8, 16, 32, 64]


def unet(**kwargs) -> UNetHead:
    torch.manual_seed(0)
    head = UNetHead(in_channels=LEVELS, in_index=[0, 1, 2, 3], channels=4, num_classes=5,
                    dropout_ratio=0.0, norm_cfg=dict(type='BN'), **kwargs)
    head.init_weights()
    return head.eval()


def pyramid(h: int = 64, w: int = 96, batch: int = 2):
    """Features at strides 4, 8, 16, 32 of an h x w image."""
    gen = torch.Generator().manual_seed(1)
    return [torch.randn(batch, c, h // s, w // s, generator=gen)
            for c, s in zip(LEVELS, (4, 8, 16, 32))]


def test_registered_with_one_block_per_finer_level():
    init_default_scope('mmsamrs')
    head = MODELS.build(dict(type='UNetHead', in_channels=LEVELS, in_index=[0, 1, 2, 3],
                             channels=4, num_classes=5))
    assert isinstance(head, UNetHead) and len(head.blocks) == 3
    widths = [(b.convs[0].conv.in_channels, b.convs[1].conv.out_channels) for b in head.blocks]
    # coarse input + skip -> 16, 8, 4 channels (channels * 2**k)
    assert widths == [(64 + 32, 16), (16 + 16, 8), (8 + 8, 4)]
    assert head.conv_seg.kernel_size == (1, 1) and head.conv_seg.in_channels == 4


def test_logits_at_stride_2_then_full_resolution_after_the_tail():
    head = unet()
    with torch.no_grad():
        logits = head(pyramid())
        assert logits.shape == (2, 5, 32, 48)
        full = head.predict_by_feat(logits, [dict(img_shape=(64, 96))] * 2)
    assert full.shape == (2, 5, 64, 96)
    assert (full >= 0).all() and (full == 0).any()  # ReLU


def test_tail_is_classifier_then_bilinear_upsampling_then_relu():
    """conv_seg, 2x bilinear, ReLU, written out step by step from the decoder features."""
    head = unet()
    feats = {}
    head.conv_seg.register_forward_hook(lambda m, inp, out: feats.update(x=inp[0]))
    with torch.no_grad():
        full = head.predict_by_feat(head(pyramid()), [dict(img_shape=(64, 96))] * 2)
        expected = F.relu(F.interpolate(head.conv_seg(feats['x']), scale_factor=2,
                                        mode='bilinear', align_corners=False))
    assert feats['x'].shape == (2, 4, 32, 48)
    torch.testing.assert_close(full, expected)


def test_without_activation_logits_keep_their_sign():
    head = unet(logits_act_cfg=None)
    with torch.no_grad():
        full = head.predict_by_feat(head(pyramid()), [dict(img_shape=(64, 96))] * 2)
    assert (full < 0).any()


def test_loss_sees_full_resolution_logits_and_trains_every_parameter():
    head = unet().train()
    labels = torch.randint(0, 5, (2, 1, 64, 96))
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    losses = head.loss_by_feat(head(pyramid()), samples)
    losses['loss_ce'].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())


@pytest.mark.parametrize('levels', [3, 5])
def test_any_number_of_levels(levels):
    channels = [8 * 2**i for i in range(levels)]
    head = UNetHead(in_channels=channels, in_index=list(range(levels)), channels=4,
                    num_classes=3, norm_cfg=dict(type='BN')).eval()
    feats = [torch.randn(1, c, 128 // 2**(i + 2), 128 // 2**(i + 2))
             for i, c in enumerate(channels)]
    assert len(head.blocks) == levels - 1
    assert head(feats).shape == (1, 3, 64, 64)
