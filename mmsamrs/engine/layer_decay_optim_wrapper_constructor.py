"""Layer-wise learning-rate decay for plain-ViT backbones (ViT, ViT-Adapter, ViT + RVSA).

The public fine-tuning recipes of these families (BEiT, MAE, ViT-Adapter, RVSA, and the
official SAMRS pre-training code) scale each parameter's learning rate by
``layer_decay_rate ** (num_layers + 1 - layer_id)``, where the embeddings are layer 0, the
i-th transformer block is layer i + 1 and everything else (adapters, necks, decode heads)
is layer ``num_layers + 1`` (full rate); biases, 1-D parameters (norms) and the position
embedding / class token get no weight decay. mmseg's ``LearningRateDecayOptimizerConstructor``
does this only for backbones whose class name holds ``BEiT`` or ``MAE``; this one works from
parameter names, so it serves mmseg's ``VisionTransformer`` and mmsamrs' ViT-family
backbones alike.
"""
import re
from typing import List, Optional

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmsamrs.registry import OPTIM_WRAPPER_CONSTRUCTORS

#: Parameters of the embedding (layer 0).
_EMBEDDING = re.compile(r'^backbone\.(cls_token|mask_token|pos_embed|patch_embed)')
#: Parameters of transformer block N (layer N + 1): timm's ``blocks.N``, mmseg's ``layers.N``.
_BLOCK = re.compile(r'^backbone\.(?:blocks|layers)\.(\d+)\.')
#: Parameters without weight decay besides biases and 1-D tensors.
_NO_DECAY_NAMES = ('backbone.pos_embed', 'backbone.cls_token')


def vit_layer_id(name: str, num_layers: int) -> int:
    """Layer index of a model parameter for layer-wise decay (0 .. ``num_layers + 1``)."""
    if _EMBEDDING.match(name):
        return 0
    block = _BLOCK.match(name)
    if block is not None:
        return int(block.group(1)) + 1
    return num_layers + 1


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ViTLayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Optimizer wrapper with layer-wise LR decay for a plain-ViT backbone.

    Config::

        optim_wrapper = dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.05),
            constructor='mmsamrs.ViTLayerDecayOptimWrapperConstructor',
            paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.9))

    One parameter group per (layer, decay/no-decay) pair, each with ``lr`` =
    ``lr_scale * base_lr`` (schedulers keep the ratio); see the module docstring for the
    layer ids.

    Args (``paramwise_cfg``):
        num_layers: Transformer blocks of the backbone.
        layer_decay_rate: Factor between consecutive layers (1.0: no decay).
    """

    def add_params(self, params: List[dict], module: nn.Module,
                   prefix: str = '', is_dcn_module: Optional[float] = None) -> None:
        """Append the layer-wise parameter groups of ``module`` to ``params``."""
        num_layers = self.paramwise_cfg['num_layers']
        rate = self.paramwise_cfg['layer_decay_rate']
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            no_decay = param.ndim == 1 or name.endswith('.bias') or name in _NO_DECAY_NAMES
            layer_id = vit_layer_id(name, num_layers)
            key = (layer_id, no_decay)
            if key not in groups:
                scale = rate**(num_layers + 1 - layer_id)
                groups[key] = dict(params=[], lr=self.base_lr * scale, lr_scale=scale,
                                   weight_decay=0.0 if no_decay else self.base_wd)
            groups[key]['params'].append(param)
        print_log(f'layer-wise LR decay {rate} over {num_layers} layers: '
                  f'{len(groups)} parameter groups', logger='current')
        params.extend(groups[key] for key in sorted(groups))
