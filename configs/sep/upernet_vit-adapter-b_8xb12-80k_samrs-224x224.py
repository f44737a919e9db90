# UperNet + ViT-Adapter-B (mmsamrs.ViTAdapter), multi-head segmentation pre-training on the
# sets of `samrs_sets` (SAMRS SEP, Table 9 "IMP+SEP ViT-Adapter-B"): AdamW LR 6e-5, weight
# decay 0.01, cosine to 0, layer-wise LR decay 0.95 over the 12 ViT blocks (the official
# recipe; the adapter, neck-free pyramid and heads train at the full rate). Backbone:
# ImageNet DeiT-B/16 as published (configs/_base_/models/upernet_vit-adapter-b.py).
_base_ = [
    '../_base_/models/upernet_vit-adapter-b.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k_layer-decay.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=6e-5, weight_decay=1e-2),
                     paramwise_cfg=dict(layer_decay_rate=0.95))
