# UperNet + ViT-Adapter-B (mmsamrs.ViTAdapter) started from ImageNet DeiT-B/16 in Facebook's
# timm layout ({'model': ...}), read as published (downloaded once to ~/.cache/torch);
# ViT-Adapter's own released segmentors' backbone keys load too
# (model.backbone.init_cfg.checkpoint=PATH).
_base_ = ['mmseg::_base_/models/upernet_r50.py']
deit_b = 'https://dl.fbaipublicfiles.com/deit/deit_base_patch16_224-b5f2ef4d.pth'
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmsamrs.ViTAdapter',
        pretrain_size=224,
        embed_dim=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4.0,
        drop_path_rate=0.3,
        conv_inplane=64,
        n_points=4,
        deform_num_heads=12,
        cffn_ratio=0.25,
        deform_ratio=0.5,
        interaction_indexes=[[0, 2], [3, 5], [6, 8], [9, 11]],
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(type='Pretrained', checkpoint=deit_b)),
    decode_head=dict(in_channels=[768, 768, 768, 768], channels=512),
    auxiliary_head=dict(in_channels=768, channels=256))
