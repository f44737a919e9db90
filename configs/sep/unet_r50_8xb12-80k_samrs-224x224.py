# UNet (the paper's variant, mmsamrs.UNetHead) + ResNet-50 (v1c), multi-head segmentation
# pre-training on the sets of `samrs_sets` (SAMRS SEP, Table 9 "UNet" rows): the schedule and
# optimiser of upernet_r50_8xb12-80k_samrs-224x224.py (AdamW LR 1e-3, weight decay 0.05, cosine to
# 5e-6).
# Pre-trained weights: ImageNet (IMP); the "SEP" row starts from scratch:
# --cfg-options model.backbone.init_cfg=None
_base_ = [
    '../_base_/models/unet_r50.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=5e-2))
param_scheduler = dict(eta_min=5e-6)
