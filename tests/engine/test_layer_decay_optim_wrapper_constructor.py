"""ViTLayerDecayOptimWrapperConstructor: per-parameter LR scale and weight decay by name."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

from mmsamrs.engine.layer_decay_optim_wrapper_constructor import vit_layer_id

BASE_LR, WD, RATE, LAYERS = 1e-3, 0.05, 0.5, 2


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)


class ViT(nn.Module):
    """timm names (``blocks``) or mmseg's (``layers``), with embeddings and an adapter."""

    def __init__(self, blocks_name: str) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, 5, 4))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.patch_embed = nn.Conv2d(3, 4, 2)
        setattr(self, blocks_name, nn.ModuleList(Block() for _ in range(LAYERS)))
        self.adapter = nn.Linear(4, 4)


class Model(nn.Module):
    def __init__(self, blocks_name: str) -> None:
        super().__init__()
        self.backbone = ViT(blocks_name)
        self.decode_head = nn.Conv2d(4, 3, 1)


def expected_layer(name: str) -> int:
    """Layer ids written out: embeddings 0, block i -> i + 1, the rest LAYERS + 1."""
    if name.split('.')[1] in ('pos_embed', 'cls_token', 'patch_embed'):
        return 0
    if name.split('.')[1] in ('blocks', 'layers'):
        return int(name.split('.')[2]) + 1
    return LAYERS + 1


@pytest.mark.parametrize('blocks_name', ['blocks', 'layers'])
def test_groups_scale_lr_by_depth_and_skip_decay_on_biases_norms_embeddings(blocks_name):
    init_default_scope('mmsamrs')
    model = Model(blocks_name)
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=BASE_LR, weight_decay=WD),
        constructor='mmsamrs.ViTLayerDecayOptimWrapperConstructor',
        paramwise_cfg=dict(num_layers=LAYERS, layer_decay_rate=RATE)))
    group_of = {id(p): g for g in wrapper.optimizer.param_groups for p in g['params']}
    params = dict(model.named_parameters())
    assert len(group_of) == len(params)  # each parameter in exactly one group
    for name, param in params.items():
        group = group_of[id(param)]
        layer = expected_layer(name)
        assert group['lr'] == pytest.approx(BASE_LR * RATE**(LAYERS + 1 - layer)), name
        no_decay = (name.endswith('.bias') or 'norm' in name
                    or name in ('backbone.pos_embed', 'backbone.cls_token'))
        assert group['weight_decay'] == (0.0 if no_decay else WD), name
    assert group_of[id(model.decode_head.weight)]['lr'] == BASE_LR  # the head: full rate


def test_layer_ids_of_the_zoos_names():
    assert vit_layer_id('backbone.patch_embed.proj.weight', 12) == 0
    assert vit_layer_id('backbone.blocks.11.mlp.fc1.weight', 12) == 12
    assert vit_layer_id('backbone.layers.0.ln1.weight', 12) == 1
    assert vit_layer_id('backbone.interactions.3.injector.gamma', 12) == 13  # ViT-Adapter
    assert vit_layer_id('backbone.fpn1.0.weight', 12) == 13  # RVSA's pyramid
    assert vit_layer_id('decode_head.conv_seg.SOTA.weight', 12) == 13
