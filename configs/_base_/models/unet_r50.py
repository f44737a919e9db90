# UNet (the SAMRS paper's variant, mmsamrs.UNetHead) + ResNet-50 v1c started from ImageNet
# weights, as upernet_r50.py; the paper's UNet has no auxiliary head.
_base_ = ['./upernet_r50.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmsamrs.UNetHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        channels=128,  # decoder blocks of 512, 256, 128 channels (strides 16, 8, 4)
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False,
        logits_act_cfg=dict(type='ReLU'),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=None)
