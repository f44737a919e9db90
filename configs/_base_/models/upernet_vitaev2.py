# UperNet + ViTAEv2-S (mmsamrs.ViTAEv2, window attention in stages 1-2, full attention in
# 3-4) started from ImageNet-1k ViTAEv2-S released by the ViTAE authors (ViTAEv2-S.pth.tar,
# a {'state_dict': ...} in the official key layout, read as published); the RSP weights
# (rsp-vitaev2-s-ckpt.pth, {'model': ...}) load the same way:
#   --cfg-options model.backbone.init_cfg.checkpoint=pretrain/rsp-vitaev2-s-ckpt.pth
_base_ = ['mmseg::_base_/models/upernet_r50.py']
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmsamrs.ViTAEv2',
        embed_dims=(64, 64, 128, 256),
        token_dims=(64, 128, 256, 512),
        downsample_ratios=(4, 2, 2, 2),
        rc_token_types=('window', 'window', 'transformer', 'transformer'),
        nc_token_types=('window', 'window', 'transformer', 'transformer'),
        rc_heads=(1, 1, 2, 4),
        nc_heads=(1, 2, 4, 8),
        rc_groups=(1, 16, 32, 64),
        nc_groups=(1, 32, 64, 128),
        nc_depths=(2, 2, 8, 2),
        mlp_ratio=4.0,
        window_size=7,
        drop_path_rate=0.3,
        norm_cfg=dict(type='SyncBN', requires_grad=True),  # PCM's BN, synchronised in DDP
        init_cfg=dict(type='Pretrained', checkpoint='pretrain/ViTAEv2-S.pth.tar')),
    decode_head=dict(in_channels=[64, 128, 256, 512], channels=512),
    auxiliary_head=dict(in_channels=256, channels=256))
