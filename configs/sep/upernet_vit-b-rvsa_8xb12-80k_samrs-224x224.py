# UperNet + ViT-B + RVSA (mmsamrs.ViTRVSA), multi-head segmentation pre-training on the sets
# of `samrs_sets` (SAMRS SEP, Table 9 "MAE+SEP ViT-B + RVSA"): AdamW LR 6e-5, weight decay
# 0.05, cosine to 0, layer-wise LR decay 0.9 over the 12 blocks (the official recipe).
# Backbone: MAE ViT-B pre-trained on MillionAID (configs/_base_/models/upernet_vit-b-rvsa.py);
# the "SAMRS-MAE" row: --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = [
    '../_base_/models/upernet_vit-b-rvsa.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k_layer-decay.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=6e-5, weight_decay=5e-2))
