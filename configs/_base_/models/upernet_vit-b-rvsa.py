# UperNet + ViT-B + RVSA (mmsamrs.ViTRVSA: rotated varied-size window attention, global
# attention in every third block) started from MAE ViT-B pre-trained on MillionAID
# (vit-b-checkpoint-1599.pth of the RVSA release, {'model': ...} in the timm/MAE layout, read
# as published). MAE weights pre-trained on the SAMRS training set ("SAMRS-MAE") load the
# same way: model.backbone.init_cfg.checkpoint=PATH.
_base_ = ['mmseg::_base_/models/upernet_r50.py']
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmsamrs.ViTRVSA',
        img_size=224,  # the pre-training size
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
