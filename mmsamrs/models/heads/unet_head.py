"""The SAMRS paper's UNet decoder for four-level feature pyramids (section 4.1).

The original U-Net decoder has five blocks, the last one joining stride-2 features that
pyramid backbones (ResNet stages 1-4, Swin, ViTAEv2, InternImage...) do not produce. The paper
replaces that last block with one 2x bilinear upsampling, and ends with a head made of a 1x1
convolution, a 2x bilinear upsampling and a ReLU.
"""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from mmsamrs.registry import MODELS


class UNetDecoderBlock(nn.Module):
    """2x nearest upsampling, concatenation with the skip features, two 3x3 ConvModules.

    Args:
        in_channels: Channels of the coarser input.
        skip_channels: Channels of the skip features (resized bilinearly to the upsampled
            input's size when the two differ by rounding).
        out_channels: Channels of both convolutions.
        conv_cfg, norm_cfg, act_cfg: As mmcv's ``ConvModule``.
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int,
                 conv_cfg: OptConfigType, norm_cfg: OptConfigType,
                 act_cfg: ConfigType) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            ConvModule(in_channels + skip_channels, out_channels, 3, padding=1,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(out_channels, out_channels, 3, padding=1,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg))

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        """Upsample ``x`` 2x, join ``skip``, convolve."""
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip.shape[2:] != x.shape[2:]:
            skip = F.interpolate(skip, size=x.shape[2:], mode='bilinear', align_corners=False)
        return self.convs(torch.cat([x, skip], dim=1))


@MODELS.register_module()
class UNetHead(BaseDecodeHead):
    """UNet decoder of the SAMRS paper over a four-level pyramid (strides 4, 8, 16, 32).

    Config: ``model.decode_head=dict(type='mmsamrs.UNetHead', in_channels=[c2, c3, c4, c5],
    in_index=[0, 1, 2, 3], channels=128, ...)``; it works as the decode head of
    ``MultiHeadEncoderDecoder`` (one 1x1 classifier per set) and of mmseg's
    ``EncoderDecoder``.

    Decoder: starting from the coarsest level, one :class:`UNetDecoderBlock` per finer level
    (stride 32 -> 16 -> 8 -> 4), widths ``channels * 2**k`` shrinking to ``channels``
    (512, 256, 128 for ``channels=128``); then the 2x bilinear upsampling that replaces
    U-Net's last block (stride 2). Head: ``conv_seg`` (1x1 convolution, the classifier),
    2x bilinear upsampling and ``logits_act_cfg`` (ReLU in the paper), giving logits at the
    input resolution.

    The classifier runs at stride 2, where mmseg heads produce their logits; the
    upsampling and activation after it (:meth:`logits_tail`) are applied in
    :meth:`loss_by_feat` and :meth:`predict_by_feat`, where mmseg heads resize their
    logits. The result equals running convolution, upsampling and activation in sequence,
    and the per-set classifiers of ``MultiHeadEncoderDecoder`` get the tail unchanged.

    The official SAMRS code keeps a fourth convolution block at stride 2 (no skip), uses a
    3x3 classifier and no activation; this head follows the paper's text.

    Args:
        logits_act_cfg: Activation applied to the upsampled logits (``None``: none).
        **kwargs: As mmseg's ``BaseDecodeHead`` (``input_transform`` is always
            ``'multiple_select'``; ``in_channels``/``in_index`` list the four levels, finest
            first).
    """

    def __init__(self, logits_act_cfg: OptConfigType = dict(type='ReLU'), **kwargs) -> None:
        super().__init__(input_transform='multiple_select', **kwargs)
        levels = len(self.in_channels)
        widths = [self.channels * 2**k for k in range(levels - 1)][::-1]
        coarser = [self.in_channels[-1]] + widths[:-1]
        skips = self.in_channels[-2::-1]
        self.blocks = nn.ModuleList(
            UNetDecoderBlock(c_in, c_skip, c_out, self.conv_cfg, self.norm_cfg, self.act_cfg)
            for c_in, c_skip, c_out in zip(coarser, skips, widths))
        self.logits_act = (build_activation_layer(logits_act_cfg)
                           if logits_act_cfg is not None else nn.Identity())

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Four pyramid levels -> classifier logits at stride 2 (see :meth:`logits_tail`)."""
        feats = self._transform_inputs(inputs)
        x = feats[-1]
        for block, skip in zip(self.blocks, feats[-2::-1]):
            x = block(x, skip)
        x = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=self.align_corners)
        return self.cls_seg(x)

    def logits_tail(self, logits: Tensor) -> Tensor:
        """The head's steps after the classifier: 2x bilinear upsampling, then the activation."""
        logits = F.interpolate(logits, scale_factor=2, mode='bilinear',
                               align_corners=self.align_corners)
        return self.logits_act(logits)

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples: SampleList) -> dict:
        """mmseg's losses on the logits after :meth:`logits_tail`."""
        return super().loss_by_feat(self.logits_tail(seg_logits), batch_data_samples)

    def predict_by_feat(self, seg_logits: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """mmseg's prediction resizing of the logits after :meth:`logits_tail`."""
        return super().predict_by_feat(self.logits_tail(seg_logits), batch_img_metas)
