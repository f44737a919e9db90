# UperNet + ViTAEv2-S (mmsamrs.ViTAEv2), multi-head segmentation pre-training on the sets of
# `samrs_sets` (SAMRS SEP, Table 9 "IMP+SEP ViTAEv2-S"; the product's headline example):
#   python tools/train.py configs/sep/upernet_vitaev2-s_8xb12-80k_samrs-224x224.py
#   python tools/train.py configs/sep/upernet_vitaev2-s_8xb12-80k_samrs-224x224.py \
#       --cfg-options samrs_sets="['SOTA','SIOR']"                 # two sets
# AdamW LR 6e-5, weight decay 0.01 (none on norms), cosine to 0, as Swin. Backbone:
# ImageNet-1k ViTAEv2-S (configs/_base_/models/upernet_vitaev2.py).
_base_ = [
    '../_base_/models/upernet_vitaev2.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=1e-2),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
