# UperNet + BEiT-B/16 (mmseg's BEiT + Feature2Pyramid) started from BEiT-B/16 pre-trained on
# ImageNet-22k (Microsoft's beit_base_patch16_224_pt22k_ft22k.pth), converted once to
# mmseg's keys:
#   python <site-packages>/mmseg/.mim/tools/model_converters/beit2mmseg.py \
#       beit_base_patch16_224_pt22k_ft22k.pth pretrain/beit_base_patch16_224_pt22k_ft22k_mmseg.pth
# BEiT's relative position tables fix the token grid to img_size (224, the pre-training
# size), so larger inputs are predicted by sliding a 224 window (test_cfg).
_base_ = ['mmseg::_base_/models/upernet_beit.py']
model = dict(
    backbone=dict(
        img_size=(224, 224),
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrain/beit_base_patch16_224_pt22k_ft22k_mmseg.pth')),
    test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(192, 192)))
