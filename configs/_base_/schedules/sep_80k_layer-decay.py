# sep_80k.py with layer-wise LR decay over the 12 blocks of a ViT-B (rate 0.9: the official
# SAMRS recipe of its ViTs; a config changes the rate with
# optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.95))).
_base_ = ['./sep_80k.py']
optim_wrapper = dict(
    constructor='mmsamrs.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.9))
