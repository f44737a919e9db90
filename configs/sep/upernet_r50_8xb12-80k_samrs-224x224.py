# UperNet + ResNet-50 (v1c), multi-head segmentation pre-training on the sets of
# `samrs_sets` (default SOTA + SIOR + FAST; SAMRS SEP, Table 9): 8 GPUs x 12 images, 80k
# iterations, AdamW LR 1e-3, weight decay 0.05, cosine to 5e-6. Backbone: ImageNet ResNet-50
# v1c (configs/_base_/models/upernet_r50.py).
_base_ = [
    '../_base_/models/upernet_r50.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=5e-2))
param_scheduler = dict(eta_min=5e-6)
