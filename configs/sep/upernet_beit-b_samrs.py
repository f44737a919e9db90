# UperNet + BEiT-B/16 (mmseg's BEiT + Feature2Pyramid), multi-head segmentation pre-training
# on SOTA + SIOR + FAST (SAMRS SEP, Table 9 "BEiT+SEP ViT-B"): AdamW LR 6e-5, weight decay
# 0.05, cosine to 0, layer-wise LR decay 0.9 over the 12 blocks.
# Backbone: BEiT-B/16 pre-trained on ImageNet-22k (Microsoft's
# beit_base_patch16_224_pt22k_ft22k.pth), converted once to mmseg's keys:
#   python <site-packages>/mmseg/.mim/tools/model_converters/beit2mmseg.py \
#       beit_base_patch16_224_pt22k_ft22k.pth pretrain/beit_base_patch16_224_pt22k_ft22k_mmseg.pth
# BEiT's relative position tables fix the token grid to img_size (224 = the training crop),
# so validation on the 512x512 centre crops slides a 224 window.
_base_ = [
    'mmseg::_base_/models/upernet_beit.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(
    _base_.samrs_model,
    backbone=dict(
        img_size=_base_.crop_size,
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrain/beit_base_patch16_224_pt22k_ft22k_mmseg.pth')),
    test_cfg=dict(mode='slide', crop_size=_base_.crop_size, stride=(192, 192)))
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=5e-2),
    constructor='mmsamrs.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.9))
