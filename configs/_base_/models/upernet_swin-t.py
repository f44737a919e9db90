# UperNet + Swin-T (mmseg's model) started from ImageNet-1k Swin-T in mmseg's keys (OpenMMLab
# download, cached once in ~/.cache/torch). A checkpoint in the official Swin layout
# (Microsoft's, RSP's) first goes through
# <site-packages>/mmseg/.mim/tools/model_converters/swin2mmseg.py.
_base_ = ['mmseg::_base_/models/upernet_swin.py']
swin_t = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_tiny_patch4_window7_224_20220317-1cdeb081.pth'  # noqa: E501
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=swin_t)))
