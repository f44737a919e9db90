"""Plain ViT with rotated varied-size window attention (ViT + RVSA) and a four-level adapter."""
import math
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, trunc_normal_, trunc_normal_init
from mmseg.models.utils import LayerNorm2d
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from mmsamrs.models.backbones.pretrained import (StateDict, load_pretrained, merge_qv_bias,
                                                 resize_grid_embedding)
from mmsamrs.models.layers.rotated_window_attention import RotatedVariedSizeWindowAttention
from mmsamrs.models.layers.vit_blocks import Block, PatchEmbed
from mmsamrs.registry import MODELS

PATCH_SIZE = 16

#: Keys of MAE checkpoints that belong to no part of this backbone (MAE decoder, class
#: token, final norm and classifier of the pre-training or fine-tuning model).
MAE_ONLY_PREFIXES = ('cls_token', 'mask_token', 'decoder_', 'norm.', 'fc_norm.', 'head.')


@MODELS.register_module()
class ViTRVSA(BaseModule):
    """ViT + RVSA (Wang et al., TGRS 2022), the SAMRS paper's ``vit_b_rvsa`` backbone.

    config: ``model.backbone=dict(type='mmsamrs.ViTRVSA', ...)`` (defaults: ViT-B + RVSA as
    the SAMRS pre-training code builds it).

    A patch-16 ViT whose blocks use :class:`RotatedVariedSizeWindowAttention` (window 7),
    except every ``interval``-th block (blocks 3, 6, 9, 12 of ViT-B), which attends globally.
    The tokens after the blocks in ``out_indices`` become (B, C, H/16, W/16) maps, and the
    official simple adapter turns them into strides 4, 8, 16, 32, all ``embed_dim`` channels:
    ``fpn1`` = deconv 2x, channel LayerNorm, GELU, deconv 2x; ``fpn2`` = deconv 2x;
    ``fpn3`` = identity; ``fpn4`` = 2x max-pool. Input sides must be multiples of 32.

    Checkpoints (``init_cfg=dict(type='Pretrained', checkpoint=...)``), all in the MAE /
    timm layout ``{'model': {'patch_embed.proj.*', 'pos_embed' (1, 1 + 14*14, C),
    'blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*', 'cls_token', 'norm.*',
    ...}}``: MAE ViT-B pre-trained on MillionAID, ``vit-b-checkpoint-1599.pth`` of the RVSA
    release (github.com/ViTAE-Transformer/Remote-Sensing-RVSA, used by SAMRS); Facebook's
    ImageNet MAE ``mae_pretrain_vit_base.pth`` (dl.fbaipublicfiles.com/mae/pretrain/); the
    SAMRS MAE weights (github.com/ViTAE-Transformer/SAMRS). BEiT-style ``attn.q_bias`` /
    ``attn.v_bias`` are merged into ``attn.qkv.bias``; the class-token row of ``pos_embed`` is
    dropped and the grid resized to ``img_size / 16`` (or the embedding dropped without
    ``use_abs_pos_emb``); MAE decoder, class token, final norm and heads are ignored. The
    RVSA predictors, relative position terms and the adapter are not in these checkpoints:
    the predictors start at zero (plain window attention).

    Args:
        img_size: Square training image side; sets the grid of the absolute position
            embedding (resized bicubically for other inputs).
        in_channels: Image channels.
        embed_dim: Token width (and the channels of every output).
        depth: Transformer blocks.
        num_heads: Attention heads.
        mlp_ratio: MLP hidden width over ``embed_dim``.
        qkv_bias: Bias on the query/key/value projections.
        drop_path_rate: Stochastic depth of the last block (linear from 0).
        window_size: RVSA window side (in tokens).
        interval: Block ``i`` attends globally when ``(i + 1) % interval == 0``.
        out_indices: The four blocks whose outputs feed ``fpn1`` .. ``fpn4``.
        use_abs_pos_emb: Add a learnt absolute position embedding (SAMRS: no; the RVSA
            repository's segmentation configs: yes).
        with_cp: Gradient checkpointing of the blocks while training.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` or None (random init).
    """

    def __init__(self,
                 img_size: int = 512,
                 in_channels: int = 3,
                 embed_dim: int = 768,
                 depth: int = 12,
                 num_heads: int = 12,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.1,
                 window_size: int = 7,
                 interval: int = 3,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 use_abs_pos_emb: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if len(out_indices) != 4:
            raise ValueError(f'out_indices must name 4 blocks, got {out_indices}')
        self.out_indices = tuple(out_indices)
        self.with_cp = with_cp
        self.patch_embed = PatchEmbed(in_channels, embed_dim, PATCH_SIZE)
        self.grid = (img_size // PATCH_SIZE,) * 2
        self.pos_embed = (nn.Parameter(torch.zeros(1, self.grid[0] * self.grid[1], embed_dim))
                          if use_abs_pos_emb else None)
        drop_path = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, drop_path[i],
                  attn=None if (i + 1) % interval == 0 else RotatedVariedSizeWindowAttention(
                      embed_dim, num_heads, window_size, qkv_bias))
            for i in range(depth))
        self.fpn1 = nn.Sequential(
            nn.ConvTranspose2d(embed_dim, embed_dim, kernel_size=2, stride=2),
            LayerNorm2d(embed_dim), nn.GELU(),
            nn.ConvTranspose2d(embed_dim, embed_dim, kernel_size=2, stride=2))
        self.fpn2 = nn.Sequential(nn.ConvTranspose2d(embed_dim, embed_dim, kernel_size=2,
                                                     stride=2))
        self.fpn3 = nn.Identity()
        self.fpn4 = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """(B, C, H, W) images -> feature maps at strides 4, 8, 16, 32."""
        b = x.shape[0]
        x, hw = self.patch_embed(x)
        if self.pos_embed is not None:
            x = x + resize_grid_embedding(self.pos_embed, hw)
        maps = []
        for i, block in enumerate(self.blocks):
            if self.with_cp and self.training:
                x = checkpoint(block, x, hw, use_reentrant=False)
            else:
                x = block(x, hw)
            if i in self.out_indices:
                maps.append(x.transpose(1, 2).reshape(b, -1, *hw))
        return tuple(fpn(m) for fpn, m in zip((self.fpn1, self.fpn2, self.fpn3, self.fpn4),
                                              maps))

    def init_weights(self) -> None:
        """Load the ``Pretrained`` checkpoint of ``init_cfg`` (MAE layout), else random init.

        The random init is the official one: truncated-normal (std 0.02) linear weights and
        position embedding, unit LayerNorms, and the output projections of block ``i``
        (1-based) divided by ``sqrt(2 i)``.
        """
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'], convert=self.convert_mae)
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_init(module, std=0.02, bias=0)
            elif isinstance(module, nn.LayerNorm):
                constant_init(module, 1, bias=0)
        if self.pos_embed is not None:
            trunc_normal_(self.pos_embed, std=0.02)
        with torch.no_grad():
            for layer, block in enumerate(self.blocks, start=1):
                block.attn.proj.weight.div_(math.sqrt(2.0 * layer))
                block.mlp.fc2.weight.div_(math.sqrt(2.0 * layer))
        super().init_weights()

    def convert_mae(self, state: StateDict) -> StateDict:
        """Map an MAE/timm (or BEiT-biased) ViT state dict to this backbone's keys."""
        state = {key: value for key, value in merge_qv_bias(state).items()
                 if not key.startswith(MAE_ONLY_PREFIXES)}
        pos_embed = state.pop('pos_embed', None)
        if pos_embed is not None and self.pos_embed is not None:
            tokens = pos_embed.shape[1]
            state['pos_embed'] = resize_grid_embedding(
                pos_embed, self.grid, num_extra_tokens=tokens - math.isqrt(tokens) ** 2)
        return state
