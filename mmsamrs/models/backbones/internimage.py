"""InternImage (Wang et al., CVPR 2023): a hierarchical backbone built on DCNv3.

Architecture and parameter names follow the official code (OpenGVLab/InternImage,
``segmentation/mmseg_custom/models/backbones/intern_image.py``) for the T/S/B variants;
the XL/H/G-only switches (``dw_kernel_size``, ``res_post_norm``, ``center_feature_scale``,
``level2_post_norm``, the CLIP projector) are left out.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.utils.checkpoint as cp
from mmcv.cnn import build_activation_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, trunc_normal_init
from torch import Tensor, nn

from mmsamrs.registry import MODELS
from ..layers.dcnv3 import DCNv3, build_format_norm
from ..layers.vit_blocks import Mlp
from .pretrained import StateDict, load_pretrained

CLASSIFIER_PREFIXES = ('conv_head.', 'head.')


def drop_classifier(state: StateDict) -> StateDict:
    """The backbone's part of an ImageNet InternImage checkpoint (no ``conv_head``/``head``)."""
    return {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIXES)}


class StemLayer(nn.Module):
    """Two stride-2 3x3 convs (NCHW in, NHWC out at stride 4), keys ``patch_embed.*``."""

    def __init__(self, in_channels: int, channels: int, norm_layer: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels // 2, 3, stride=2, padding=1)
        self.norm1 = build_format_norm(channels // 2, norm_layer, 'channels_first',
                                       'channels_first')
        self.act = build_activation_layer(dict(type='GELU'))
        self.conv2 = nn.Conv2d(channels // 2, channels, 3, stride=2, padding=1)
        self.norm2 = build_format_norm(channels, norm_layer, 'channels_first',
                                       'channels_last')

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) -> (N, H/4, W/4, channels)."""
        return self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))


class DownsampleLayer(nn.Module):
    """A stride-2 3x3 conv doubling the channels, NHWC in and out."""

    def __init__(self, channels: int, norm_layer: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1, bias=False)
        self.norm = build_format_norm(2 * channels, norm_layer, 'channels_first',
                                      'channels_last')

    def forward(self, x: Tensor) -> Tensor:
        """(N, H, W, C) -> (N, H/2, W/2, 2C)."""
        return self.norm(self.conv(x.permute(0, 3, 1, 2)))


class InternImageLayer(nn.Module):
    """One block: a DCNv3 residual branch and an MLP residual branch, NHWC.

    Pre-norm (``x + f(norm(x))``) by default, post-norm (``x + norm(f(x))``, as
    InternImage-S/B) with ``post_norm``; ``layer_scale`` adds the per-channel factors
    ``gamma1``/``gamma2`` on the branches.
    """

    def __init__(self, channels: int, group: int, mlp_ratio: float, drop_path: float,
                 norm_layer: str, post_norm: bool, layer_scale: Optional[float],
                 offset_scale: float, with_cp: bool, core_op_impl: str) -> None:
        super().__init__()
        self.post_norm = post_norm
        self.with_cp = with_cp
        self.norm1 = build_format_norm(channels, 'LN', 'channels_last', 'channels_last')
        self.dcn = DCNv3(channels, kernel_size=3, group=group, offset_scale=offset_scale,
                         norm_layer=norm_layer, core_op_impl=core_op_impl)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = build_format_norm(channels, 'LN', 'channels_last', 'channels_last')
        self.mlp = Mlp(channels, int(channels * mlp_ratio))
        if layer_scale is None:
            self.gamma1 = self.gamma2 = None
        else:
            self.gamma1 = nn.Parameter(torch.full((channels, ), float(layer_scale)))
            self.gamma2 = nn.Parameter(torch.full((channels, ), float(layer_scale)))

    def _residual(self, x: Tensor, branch: nn.Module, norm: nn.Module,
                  gamma: Optional[Tensor]) -> Tensor:
        y = norm(branch(x)) if self.post_norm else branch(norm(x))
        return x + self.drop_path(y if gamma is None else gamma * y)

    def _forward(self, x: Tensor) -> Tensor:
        x = self._residual(x, self.dcn, self.norm1, self.gamma1)
        return self._residual(x, self.mlp, self.norm2, self.gamma2)

    def forward(self, x: Tensor) -> Tensor:
        """(N, H, W, C) -> (N, H, W, C); recomputed in backward when ``with_cp``."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class InternImageBlock(nn.Module):
    """One level (``levels.N``): its blocks, a final LN (pre-norm only), a downsample."""

    def __init__(self, channels: int, depth: int, group: int, downsample: bool,
                 drop_path: Sequence[float], norm_layer: str, post_norm: bool,
                 **layer_kwargs) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([
            InternImageLayer(channels, group, drop_path=drop_path[i], norm_layer=norm_layer,
                             post_norm=post_norm, **layer_kwargs) for i in range(depth)
        ])
        self.norm = None if post_norm else build_format_norm(channels, 'LN', 'channels_last',
                                                             'channels_last')
        self.downsample = DownsampleLayer(channels, norm_layer) if downsample else None

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """The level's features and the next level's input (both NHWC)."""
        for block in self.blocks:
            x = block(x)
        if self.norm is not None:
            x = self.norm(x)
        return x, (x if self.downsample is None else self.downsample(x))


@MODELS.register_module()
class InternImage(BaseModule):
    """InternImage backbone: four levels of DCNv3 blocks at strides 4, 8, 16, 32.

    config: ``model.backbone=dict(type='mmsamrs.InternImage', ...)``; InternImage-T (SAMRS)
    is ``channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32], mlp_ratio=4.,
    drop_path_rate=0.2, norm_layer='LN', layer_scale=1.0, offset_scale=1.0,
    post_norm=False`` with outputs of 64, 128, 256 and 512 channels.

    Checkpoints: the official ImageNet classifiers, e.g. ``internimage_t_1k_224.pth`` from
    https://huggingface.co/OpenGVLab/InternImage (also the InternImage GitHub releases),
    ``{'model': state_dict}`` in the key layout of the official ``InternImage`` class, which
    this class keeps: ``patch_embed.{conv1,norm1.1,conv2,norm2.1}``,
    ``levels.N.blocks.M.{norm1.0,norm2.0,gamma1,gamma2}``,
    ``levels.N.blocks.M.dcn.{dw_conv.0,dw_conv.1.1,offset,mask,input_proj,output_proj}``,
    ``levels.N.blocks.M.mlp.{fc1,fc2}``, ``levels.N.norm.0``,
    ``levels.N.downsample.{conv,norm.1}``. Its classifier (``conv_head.*``, ``head.*``) is
    dropped. The T classifier was trained without layer scale, so with ``layer_scale=1.0``
    (the official segmentation setting) ``gamma1``/``gamma2`` are reported missing and stay
    at 1, which is the same function.

    Args:
        channels: Channels of the first level (doubled at each level).
        depths: Blocks per level.
        groups: DCNv3 groups per level.
        mlp_ratio: MLP hidden width over the block width.
        drop_path_rate: Stochastic depth, linearly increasing over all blocks up to this.
        norm_layer: ``'LN'`` or ``'BN'``: the norm of the stem, downsamples and DCNv3's
            depthwise conv (the blocks' norms are always LN).
        layer_scale: Initial value of the per-channel branch factors; None for none.
        offset_scale: DCNv3's offset scale.
        post_norm: Normalise each branch's output instead of its input (InternImage-S/B).
        with_cp: Recompute each block in backward (activation checkpointing).
        out_indices: Levels whose features are returned.
        core_op_impl: DCNv3 core op, ``'auto'`` (the official CUDA extension on GPU when
            built, else PyTorch's), ``'cuda'``, ``'mmcv'`` or ``'pytorch'``; see
            :func:`mmsamrs.models.layers.dcnv3.dcnv3_core`.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` loads an official checkpoint.
    """

    def __init__(self,
                 channels: int = 64,
                 depths: Sequence[int] = (4, 4, 18, 4),
                 groups: Sequence[int] = (4, 8, 16, 32),
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.2,
                 norm_layer: str = 'LN',
                 layer_scale: Optional[float] = None,
                 offset_scale: float = 1.0,
                 post_norm: bool = False,
                 with_cp: bool = False,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 core_op_impl: str = 'auto',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.out_indices = tuple(out_indices)
        self.num_features = [channels * 2**i for i in range(len(depths))]
        self.patch_embed = StemLayer(3, channels, norm_layer)
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.levels = nn.ModuleList()
        for i, (depth, group) in enumerate(zip(depths, groups)):
            start = sum(depths[:i])
            self.levels.append(
                InternImageBlock(
                    self.num_features[i], depth, group, downsample=i < len(depths) - 1,
                    drop_path=rates[start:start + depth], norm_layer=norm_layer,
                    post_norm=post_norm, mlp_ratio=mlp_ratio, layer_scale=layer_scale,
                    offset_scale=offset_scale, with_cp=with_cp, core_op_impl=core_op_impl))

    def init_weights(self) -> None:
        """Load the ``Pretrained`` checkpoint, else the official random init.

        Random init: truncated-normal (std 0.02) linear layers, unit LayerNorms, then
        DCNv3's own init (zero offsets and mask, Xavier projections).
        """
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'], convert=drop_classifier)
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_init(module, std=.02, bias=0.)
            elif isinstance(module, nn.LayerNorm):
                constant_init(module, 1.0, bias=0.)
        for module in self.modules():
            if isinstance(module, DCNv3):
                module.reset_parameters()
        super().init_weights()

    def forward(self, x: Tensor) -> List[Tensor]:
        """(N, 3, H, W) -> the ``out_indices`` levels' features, NCHW, strides 4 to 32."""
        x = self.patch_embed(x)
        outs = []
        for i, level in enumerate(self.levels):
            features, x = level(x)
            if i in self.out_indices:
                outs.append(features.permute(0, 3, 1, 2).contiguous())
        return outs
