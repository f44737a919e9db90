# UperNet + ResNet-50 v1c (mmseg's model) started from ImageNet weights (mmcv model zoo,
# downloaded once to ~/.cache/torch; another checkpoint: model.backbone.init_cfg.checkpoint).
# Shared by SEP (configs/sep: one classifier per set) and fine-tuning (configs/finetune: the
# dataset's num_classes).
_base_ = ['mmseg::_base_/models/upernet_r50.py']
model = dict(
    pretrained=None,
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')))
