# UperNet + InternImage-T (mmsamrs.InternImage, DCNv3) started from ImageNet-1k InternImage-T
# (internimage_t_1k_224.pth, {'model': ...} in the official key layout, downloaded once to
# ~/.cache/torch). DCNv3 runs the official compiled extension on GPU when it is installed
# (InternImage's ops_dcnv3, python module DCNv3), else its PyTorch path
# (model.backbone.core_op_impl).
_base_ = ['mmseg::_base_/models/upernet_r50.py']
internimage_t = 'https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_t_1k_224.pth'  # noqa: E501
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmsamrs.InternImage',
        channels=64,
        depths=[4, 4, 18, 4],
        groups=[4, 8, 16, 32],
        mlp_ratio=4.0,
        drop_path_rate=0.2,
        norm_layer='LN',
        layer_scale=1.0,
        offset_scale=1.0,
        post_norm=False,
        with_cp=False,
        out_indices=(0, 1, 2, 3),
        core_op_impl='auto',
        init_cfg=dict(type='Pretrained', checkpoint=internimage_t)),
    decode_head=dict(in_channels=[64, 128, 256, 512], channels=512),
    auxiliary_head=dict(in_channels=256, channels=256))
