"""ViTAEv2 backbone (window attention without shift), the ViTAEv2-S of the SAMRS model zoo."""
import math
from itertools import accumulate
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, trunc_normal_, trunc_normal_init
from mmseg.models.utils import nlc_to_nchw
from torch import Tensor, nn

from mmsamrs.registry import MODELS
from ..layers.vitae_cells import NormalCell, ReductionCell, WindowAttention
from .pretrained import StateDict, load_pretrained, resize_grid_embedding


class ViTAEv2Stage(nn.Module):
    """One stage: a reduction cell (``RC``) then normal cells (``NC.N``); NCHW in and out.

    Args:
        reduction: The stage's reduction cell.
        cells: Its normal cells.
    """

    def __init__(self, reduction: ReductionCell, cells: Sequence[NormalCell]) -> None:
        super().__init__()
        self.RC = reduction
        self.NC = nn.ModuleList(cells)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, token_dim, H / ratio, W / ratio)."""
        x, hw = self.RC(x)
        for cell in self.NC:
            x = cell(x, hw)
        return nlc_to_nchw(x, hw)


@MODELS.register_module()
class ViTAEv2(BaseModule):
    """ViTAEv2 (Zhang et al., IJCV 2023) with non-shifted window attention, as used for dense
    prediction by ViTAE-Transformer-Remote-Sensing and SAMRS (``ViTAE_Window_NoShift_basic``).

    config: ``model.backbone=dict(type='mmsamrs.ViTAEv2', ...)``; the defaults are ViTAEv2-S
    (window attention in the first two stages, global attention in the last two) with the
    drop-path rate of the SAMRS / RSP segmentation configs.

    Four stages, each a reduction cell (PRM tokens + strided PCM, downsampling by
    ``downsample_ratios``) and ``nc_depths`` normal cells; the outputs are the four stages'
    maps, NCHW with ``token_dims`` channels at strides 4, 8, 16, 32, unnormalised as in the
    official segmentation backbone. Input sides must be multiples of 4 (so that the PRM and
    the PCM of the first cell agree), and of 32 for exact strides.

    Checkpoints: the ImageNet-1k ``ViTAEv2-S.pth.tar`` of ViTAE-Transformer
    (``{'state_dict': ...}``, from the repository's Image-Classification README) and the
    MillionAID RSP ``rsp-vitaev2-s-ckpt.pth`` of ViTAE-Transformer-Remote-Sensing
    (``{'model': ...}``), both in the official key layout, which this module keeps:
    ``layers.{i}.RC.PRM.convs.{j}.0.*``, ``layers.{i}.RC.PCM.{0,1,3,4,6}.*``,
    ``layers.{i}.RC.attn.{norm1,norm2}.*``, ``layers.{i}.RC.attn.attn.{qkv,proj}.*``,
    ``layers.{i}.RC.attn.mlp.{fc1,fc2}.*``, ``layers.{i}.NC.{j}.{norm1,norm2}.*``,
    ``layers.{i}.NC.{j}.attn.{qkv,proj}.*``, ``layers.{i}.NC.{j}.mlp.{fc1,fc2}.*``,
    ``layers.{i}.NC.{j}.PCM.{0,1,3,4,6}.*``. The classifier ``head.*``, the unused output
    norms ``norm{i}.*`` of the official segmentation backbone, and the
    ``relative_position_index`` / ``attn_mask`` buffers are dropped; the window attentions'
    ``relative_position_bias_table`` (present but unused in the released models) is loaded,
    bicubic-resized to this ``window_size``, only with ``relative_pos=True``.

    Args:
        in_channels: Image channels.
        embed_dims: Per stage: width of each PRM branch and of the RC's PCM.
        token_dims: Per stage: token width (the output channels).
        downsample_ratios: Per stage: stride of the reduction cell.
        kernel_sizes: Per stage: PRM kernel side.
        dilations: Per stage: PRM dilations.
        rc_token_types: Per stage: ``'window'`` or ``'transformer'`` for the RC.
        nc_token_types: Per stage: ``'window'`` or ``'transformer'`` for the NCs.
        rc_heads: Per stage: attention heads of the RC.
        nc_heads: Per stage: attention heads of the NCs.
        rc_groups: Per stage: groups of the RC's PCM convolutions.
        nc_groups: Per stage: groups of the NCs' PCM convolutions.
        nc_depths: Per stage: number of normal cells.
        mlp_ratio: MLP (and NC PCM) hidden width over the token width.
        window_size: Window side of the window attentions.
        relative_pos: Relative position bias in the window attentions (off in ViTAEv2-S).
        drop_path_rate: Stochastic depth, rising linearly over the normal cells to this.
        norm_cfg: Norm of the PCMs (official: BN).
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` loads a public checkpoint.
    """

    def __init__(self,
                 in_channels: int = 3,
                 embed_dims: Sequence[int] = (64, 64, 128, 256),
                 token_dims: Sequence[int] = (64, 128, 256, 512),
                 downsample_ratios: Sequence[int] = (4, 2, 2, 2),
                 kernel_sizes: Sequence[int] = (7, 3, 3, 3),
                 dilations: Sequence[Sequence[int]] = ((1, 2, 3, 4), (1, 2, 3), (1, 2), (1, 2)),
                 rc_token_types: Sequence[str] = ('window', 'window', 'transformer',
                                                  'transformer'),
                 nc_token_types: Sequence[str] = ('window', 'window', 'transformer',
                                                  'transformer'),
                 rc_heads: Sequence[int] = (1, 1, 2, 4),
                 nc_heads: Sequence[int] = (1, 2, 4, 8),
                 rc_groups: Sequence[int] = (1, 16, 32, 64),
                 nc_groups: Sequence[int] = (1, 32, 64, 128),
                 nc_depths: Sequence[int] = (2, 2, 8, 2),
                 mlp_ratio: float = 4.0,
                 window_size: int = 7,
                 relative_pos: bool = False,
                 drop_path_rate: float = 0.3,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        rates = torch.linspace(0, drop_path_rate, sum(nc_depths)).tolist()
        starts = [0, *accumulate(nc_depths)]
        stage_rates = [rates[start:end] for start, end in zip(starts, starts[1:])]
        stages = []
        for (embed, dim, ratio, kernel, dils, rc_type, nc_type, rc_head, nc_head, rc_group,
             nc_group, cell_rates) in zip(embed_dims, token_dims, downsample_ratios,
                                          kernel_sizes, dilations, rc_token_types,
                                          nc_token_types, rc_heads, nc_heads, rc_groups,
                                          nc_groups, stage_rates, strict=True):
            reduction = ReductionCell(in_channels, embed, dim, ratio, kernel, dils, rc_head,
                                      rc_group, rc_type, window_size, relative_pos, norm_cfg)
            cells = [
                NormalCell(dim, nc_head, nc_group, nc_type, window_size, relative_pos,
                           mlp_ratio, rate, norm_cfg) for rate in cell_rates
            ]
            stages.append(ViTAEv2Stage(reduction, cells))
            in_channels = dim
        self.layers = nn.ModuleList(stages)
        self.out_channels = tuple(token_dims)

    def init_weights(self) -> None:
        """Load the ``Pretrained`` checkpoint of ``init_cfg``, else the official random init."""
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'], convert=self.convert_checkpoint)
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_init(module, std=0.02, bias=0.0)
            elif isinstance(module, nn.LayerNorm):
                constant_init(module, val=1.0, bias=0.0)
            elif isinstance(module, WindowAttention) and module.relative_pos:
                trunc_normal_(module.relative_position_bias_table, std=0.02)
        super().init_weights()

    def convert_checkpoint(self, state: StateDict) -> StateDict:
        """Official ViTAEv2 keys -> this module's: the same names, less what it lacks.

        Drops the classifier and output norms, the index/mask buffers and, without
        ``relative_pos``, the relative position tables; resizes the tables otherwise.
        """
        own = self.state_dict()
        converted = {}
        for key, value in state.items():
            top = key.split('.', 1)[0]
            if top == 'head' or top.startswith('norm') or key.endswith(
                    ('relative_position_index', 'attn_mask')):
                continue
            if key.endswith('relative_position_bias_table'):
                if key not in own:
                    continue
                side = math.isqrt(own[key].shape[0])
                value = resize_grid_embedding(value[None], (side, side))[0]
            converted[key] = value
        return converted

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """(B, C, H, W) images -> the four stages' maps at strides 4, 8, 16, 32."""
        outs = []
        for stage in self.layers:
            x = stage(x)
            outs.append(x)
        return tuple(outs)
