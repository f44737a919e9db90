# UperNet + ViT-B/16 (mmseg's VisionTransformer + MultiLevelNeck), multi-head segmentation
# pre-training on the sets of `samrs_sets` (SAMRS SEP, Table 9 "IMP+SEP ViT-B"): as
# upernet_r50_8xb12-80k_samrs-224x224.py with AdamW LR 6e-5, weight decay 0.05, cosine to 0, and
# layer-wise LR
# decay 0.9 over the 12 blocks (the official SAMRS recipe for its ViTs). Backbone: ImageNet
# DeiT-B/16, converted once to mmseg's keys (configs/_base_/models/upernet_vit-b.py).
_base_ = [
    '../_base_/models/upernet_vit-b.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k_layer-decay.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=6e-5, weight_decay=5e-2))
