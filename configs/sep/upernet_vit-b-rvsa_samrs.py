# UperNet + ViT-B + RVSA (mmsamrs.ViTRVSA: rotated varied-size window attention, global
# attention in every third block), multi-head segmentation pre-training on SOTA + SIOR + FAST
# (SAMRS SEP, Table 9 "MAE+SEP ViT-B + RVSA"): AdamW LR 6e-5, weight decay 0.05, cosine to 0,
# layer-wise LR decay 0.9 over the 12 blocks (the official recipe).
# Backbone: MAE ViT-B pre-trained on MillionAID (vit-b-checkpoint-1599.pth of the RVSA
# release, {'model': ...} in the timm/MAE layout, read as published). The "SAMRS-MAE" row
# starts from MAE weights pre-trained on the SAMRS training set, same layout:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = [
    'mmseg::_base_/models/upernet_r50.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(
    _base_.samrs_model,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmsamrs.ViTRVSA',
        img_size=_base_.crop_size[0],
        embed_dim=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4.0,
        qkv_bias=True,
        drop_path_rate=0.1,
        window_size=7,
        interval=3,
        out_indices=(3, 5, 7, 11),
        use_abs_pos_emb=False,  # as the official SAMRS code
        init_cfg=dict(type='Pretrained', checkpoint='pretrain/vit-b-checkpoint-1599.pth')),
    decode_head=dict(in_channels=[768, 768, 768, 768], channels=512),
    auxiliary_head=dict(in_channels=768, channels=256))
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=5e-2),
    constructor='mmsamrs.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.9))
