# UperNet + ResNet-50 (v1c), multi-head segmentation pre-training on SOTA + SIOR + FAST
# (SAMRS SEP, Table 9): 8 GPUs x 12 images, 80k iterations, AdamW LR 1e-3, weight decay
# 0.05, cosine to 5e-6. Backbone: ImageNet ResNet-50 v1c (mmcv model zoo, downloaded once
# to ~/.cache/torch); another checkpoint: model.backbone.init_cfg.checkpoint=PATH_OR_URL.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(
    _base_.samrs_model,
    pretrained=None,
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=5e-2))
param_scheduler = dict(eta_min=5e-6)
