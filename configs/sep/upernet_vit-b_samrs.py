# UperNet + ViT-B/16 (mmseg's VisionTransformer + MultiLevelNeck), multi-head segmentation
# pre-training on SOTA + SIOR + FAST (SAMRS SEP): as upernet_r50_samrs.py with AdamW LR
# 6e-5, weight decay 0.05, cosine to 0 (layer-wise LR decay: not here).
# Backbone: MAE-pre-trained ViT-B/16 (the paper's ViT-B starts from MAE weights). mmseg's
# VisionTransformer (with the settings below) is the MAE encoder (timm layout: patch
# embedding and qkv with bias, absolute position embedding with a class token, no layer
# scale) but reads mmseg's key names, so convert the timm-layout checkpoint once (blocks.* ->
# layers.*, attn.qkv -> attn.attn.in_proj_, norm -> ln1, ...; the converter unwraps the
# 'model' entry of MAE's file): every backbone key then loads.
#   wget https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth
#   python <site-packages>/mmseg/.mim/tools/model_converters/vit2mmseg.py \
#       mae_pretrain_vit_base.pth pretrain/mae_pretrain_vit_base_mmseg.pth
# The same for an MAE ViT-B pre-trained on remote-sensing images (e.g. MillionAID).
_base_ = [
    'mmseg::_base_/models/upernet_vit-b16_ln_mln.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(
    _base_.samrs_model,
    pretrained=None,
    backbone=dict(
        img_size=_base_.crop_size,  # MAE's 224; the position embedding adapts to 512 in val
        patch_bias=True,  # MAE's patch embedding has a bias (mmseg's default: none)
        drop_path_rate=0.1,
        final_norm=True,  # MAE's final LayerNorm (norm -> ln1) on the last output
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrain/mae_pretrain_vit_base_mmseg.pth')))
