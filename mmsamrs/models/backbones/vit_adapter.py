"""ViT-Adapter (Chen et al., ICLR 2023): a plain ViT with a convolutional spatial prior and
deformable-attention interactions that turn it into a four-level feature pyramid."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.model.weight_init import (constant_init, normal_init, trunc_normal_,
                                        trunc_normal_init)
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmsamrs.models.layers.adapter_modules import (InteractionBlock, MSDeformAttn,
                                                   SpatialPriorModule, deformable_inputs)
from mmsamrs.models.layers.vit_blocks import Block, PatchEmbed
from mmsamrs.registry import MODELS

from .pretrained import StateDict, load_pretrained, resize_grid_embedding

PATCH_SIZE = 16
_CLASSIFIER_KEYS = ('cls_token', 'dist_token')
_CLASSIFIER_PREFIXES = ('head.', 'head_dist.', 'norm.', 'fc_norm.')


@MODELS.register_module()
class ViTAdapter(BaseModule):
    """ViT-Adapter backbone: four levels of ``embed_dim`` channels at strides 4, 8, 16, 32.

    config: ``model.backbone=dict(type='mmsamrs.ViTAdapter', ...)``; the defaults are
    ViT-Adapter-B as the SAMRS paper trains it (DeiT-B, ``deform_num_heads=12``,
    ``deform_ratio=0.5``, ``drop_path_rate=0.3``, interactions after blocks 2, 5, 8, 11).

    A ViT-B/16 (timm layout, :mod:`mmsamrs.models.layers.vit_blocks`) runs in four groups of
    blocks; before each group an injector lets the ViT tokens attend (multi-scale deformable
    attention) to the spatial prior module's stride-8/16/32 features, after it an extractor
    lets those features attend to the ViT tokens. The stride-4 level is the spatial prior's
    plus an upsampled stride-8 level; with ``add_vit_feature`` the ViT tokens after each group,
    resized, are added to the four levels, each of which is then batch-normalised.

    Input sides must be multiples of 32. The position embedding stays at the pre-training grid
    (``pretrain_size / 16``) and is resized bicubically to the input's patch grid at each
    forward, as in the official implementation.

    Checkpoints (``init_cfg=dict(type='Pretrained', checkpoint=...)``):

    * DeiT-B, ``deit_base_patch16_224-b5f2ef4d.pth`` from Facebook's DeiT release
      (https://dl.fbaipublicfiles.com/deit/), container ``{'model': ...}``, timm keys
      ``patch_embed.proj.*``, ``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*``,
      ``pos_embed`` (1, 1 + 14*14, 768) with the class-token row first, and the classifier's
      ``cls_token``, ``norm.*``, ``head.*``. Loads the ViT part; the adapter keeps its
      random init.
    * ViT-Adapter's released checkpoints (czczup/ViT-Adapter), ``{'state_dict': ...}`` of a
      whole segmentor whose ``backbone.*`` keys are the ViT keys above plus the adapter's
      ``level_embed``, ``spm.*``, ``interactions.N.{injector,extractor,extra_extractors}.*``,
      ``up.*``, ``norm1..norm4.*``; only the ``backbone.*`` part is read.

    The mapping drops the classifier keys and the class-token row(s) of ``pos_embed`` and
    resizes it to the pre-training grid if the checkpoint's grid differs.

    Args:
        pretrain_size: Image side the position embedding was trained at.
        in_channels: Image channels.
        embed_dim: ViT width, also every output level's channels.
        depth: ViT blocks.
        num_heads: ViT attention heads.
        mlp_ratio: ViT MLP hidden width over ``embed_dim``.
        qkv_bias: Bias on the ViT query/key/value projection.
        drop_path_rate: Stochastic depth, linear over the ViT blocks; also the (constant)
            rate of the extractors' ConvFFN branches.
        conv_inplane: Width of the spatial prior module's stem.
        n_points: Deformable-attention sampling points per head and level.
        deform_num_heads: Deformable-attention heads.
        init_values: Initial injector scale ``gamma``.
        interaction_indexes: Four (first, last) ViT block index pairs, one per interaction.
        with_cffn: Extractors have a ConvFFN.
        cffn_ratio: ConvFFN hidden width over ``embed_dim``.
        deform_ratio: Value-projection width ratio of the deformable attentions.
        add_vit_feature: Add the resized ViT tokens to the four output levels.
        use_extra_extractor: Two more extractors after the last interaction.
        norm_cfg: Normalisation of the spatial prior module and of the outputs (SyncBN in
            the official code; BN for single-process CPU use).
        deform_attn_impl: ``'auto'``, ``'pytorch'`` or ``'mmcv'``, see
            :func:`~mmsamrs.models.layers.adapter_modules.multi_scale_deformable_attention`.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` to load a checkpoint.
    """

    def __init__(self,
                 pretrain_size: int = 224,
                 in_channels: int = 3,
                 embed_dim: int = 768,
                 depth: int = 12,
                 num_heads: int = 12,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.3,
                 conv_inplane: int = 64,
                 n_points: int = 4,
                 deform_num_heads: int = 12,
                 init_values: float = 0.0,
                 interaction_indexes: Sequence[Sequence[int]] = ((0, 2), (3, 5), (6, 8),
                                                                 (9, 11)),
                 with_cffn: bool = True,
                 cffn_ratio: float = 0.25,
                 deform_ratio: float = 0.5,
                 add_vit_feature: bool = True,
                 use_extra_extractor: bool = True,
                 norm_cfg: dict = dict(type='SyncBN', requires_grad=True),
                 deform_attn_impl: str = 'auto',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(interaction_indexes) != 4:
            raise ValueError('ViT-Adapter needs four interactions (one per output level), '
                             f'got interaction_indexes={interaction_indexes}')
        if any(not 0 <= first <= last < depth for first, last in interaction_indexes):
            raise ValueError(f'interaction_indexes {interaction_indexes} must be ordered '
                             f'(first, last) pairs of block indices below depth={depth}')
        self.pretrain_grid = (pretrain_size // PATCH_SIZE, pretrain_size // PATCH_SIZE)
        self.interaction_indexes = [tuple(pair) for pair in interaction_indexes]
        self.add_vit_feature = add_vit_feature

        self.patch_embed = PatchEmbed(in_channels, embed_dim, PATCH_SIZE)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.pretrain_grid[0] * self.pretrain_grid[1], embed_dim))
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, rate) for rate in rates)

        self.level_embed = nn.Parameter(torch.zeros(3, embed_dim))
        self.spm = SpatialPriorModule(in_channels, conv_inplane, embed_dim, norm_cfg)
        last = len(self.interaction_indexes) - 1
        self.interactions = nn.ModuleList(
            InteractionBlock(embed_dim, deform_num_heads, n_points, drop_path_rate, with_cffn,
                             cffn_ratio, init_values, deform_ratio,
                             use_extra_extractor and i == last, deform_attn_impl)
            for i in range(len(self.interaction_indexes)))
        self.up = nn.ConvTranspose2d(embed_dim, embed_dim, 2, 2)
        self.norm1 = build_norm_layer(norm_cfg, embed_dim)[1]
        self.norm2 = build_norm_layer(norm_cfg, embed_dim)[1]
        self.norm3 = build_norm_layer(norm_cfg, embed_dim)[1]
        self.norm4 = build_norm_layer(norm_cfg, embed_dim)[1]

    def init_weights(self) -> None:
        """ViT-Adapter's random init, then the ``Pretrained`` checkpoint if one is given."""
        self._init_random_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'],
                            convert=self._convert_public_checkpoint)
        else:
            super().init_weights()

    def _init_random_weights(self) -> None:
        """Official scheme: truncated-normal linears, unit norms, He-normal (fan-out) convs,
        Deformable-DETR init of the deformable attentions, standard-normal level embedding."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_init(m, std=0.02, bias=0.0)
            elif isinstance(m, (nn.LayerNorm, _BatchNorm)):
                constant_init(m, 1.0, bias=0.0)
            elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                normal_init(m, std=math.sqrt(2.0 / fan_out), bias=0.0)
        for m in self.modules():
            if isinstance(m, MSDeformAttn):
                m.init_weights()
        trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.level_embed)

    def _convert_public_checkpoint(self, state: StateDict) -> StateDict:
        """DeiT / ViT-Adapter release keys -> ours (see the class docstring)."""
        if any(key.startswith('backbone.') for key in state):
            state = {key[len('backbone.'):]: value for key, value in state.items()
                     if key.startswith('backbone.')}
        state = {key: value for key, value in state.items()
                 if key not in _CLASSIFIER_KEYS and not key.startswith(_CLASSIFIER_PREFIXES)}
        if 'pos_embed' in state:
            rows = state['pos_embed'].shape[1]
            state['pos_embed'] = resize_grid_embedding(
                state['pos_embed'], self.pretrain_grid,
                num_extra_tokens=rows - math.isqrt(rows)**2)
        return state

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Image (B, C, H, W), H and W multiples of 32 -> four (B, embed_dim, H/s, W/s) maps,
        s = 4, 8, 16, 32."""
        if x.shape[-2] % 32 or x.shape[-1] % 32:
            raise ValueError(f'ViTAdapter needs image sides that are multiples of 32, got '
                             f'{tuple(x.shape[-2:])}')
        c1, c2, c3, c4 = self.spm(x)
        tokens, grid = self.patch_embed(x)
        tokens = tokens + resize_grid_embedding(self.pos_embed, grid)
        b, _, dim = tokens.shape
        h, w = grid
        level_shapes = [(2 * h, 2 * w), (h, w), (h // 2, w // 2)]
        injector_inputs = deformable_inputs([grid], level_shapes, x.device)
        extractor_inputs = deformable_inputs(level_shapes, [grid], x.device)
        c = torch.cat([level.flatten(2).transpose(1, 2) + embed
                       for level, embed in zip((c2, c3, c4), self.level_embed)], dim=1)

        vit_maps = []
        for (first, last), interaction in zip(self.interaction_indexes, self.interactions):
            tokens, c = interaction(tokens, c, self.blocks[first:last + 1], grid,
                                    injector_inputs, extractor_inputs)
            vit_maps.append(tokens.transpose(1, 2).reshape(b, dim, h, w))

        c2, c3, c4 = (level.transpose(1, 2).reshape(b, dim, lh, lw) for level, (lh, lw) in zip(
            c.split([lh * lw for lh, lw in level_shapes], dim=1), level_shapes))
        c1 = self.up(c2) + c1
        levels = [c1, c2, c3, c4]
        if self.add_vit_feature:
            levels = [level + F.interpolate(vit_map, size=level.shape[-2:], mode='bilinear',
                                            align_corners=False)
                      for level, vit_map in zip(levels, vit_maps)]
        return tuple(norm(level) for norm, level in zip(
            (self.norm1, self.norm2, self.norm3, self.norm4), levels))
