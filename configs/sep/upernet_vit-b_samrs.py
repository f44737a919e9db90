# UperNet + ViT-B/16 (mmseg's VisionTransformer + MultiLevelNeck), multi-head segmentation
# pre-training on SOTA + SIOR + FAST (SAMRS SEP, Table 9 "IMP+SEP ViT-B"): as
# upernet_r50_samrs.py with AdamW LR 6e-5, weight decay 0.05, cosine to 0, and layer-wise LR
# decay 0.9 over the 12 blocks (the official SAMRS recipe for its ViTs).
# Backbone: ImageNet DeiT-B/16 (the official code's "IMP" ViT weights). mmseg's
# VisionTransformer with the settings below is that network (timm layout: patch embedding and
# qkv with bias, absolute position embedding with a class token, final LayerNorm) but reads
# mmseg's key names, so convert the timm-layout checkpoint once (blocks.* -> layers.*,
# attn.qkv -> attn.attn.in_proj_, norm -> ln1, ...; the converter unwraps the 'model' entry):
#   wget https://dl.fbaipublicfiles.com/deit/deit_base_patch16_224-b5f2ef4d.pth
#   python <site-packages>/mmseg/.mim/tools/model_converters/vit2mmseg.py \
#       deit_base_patch16_224-b5f2ef4d.pth pretrain/deit_base_patch16_224_mmseg.pth
# The same for an MAE ViT-B (mae_pretrain_vit_base.pth): then set the checkpoint below.
_base_ = [
    'mmseg::_base_/models/upernet_vit-b16_ln_mln.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(
    _base_.samrs_model,
    pretrained=None,
    backbone=dict(
        img_size=_base_.crop_size,  # the position embedding adapts to 512 in validation
        patch_bias=True,  # timm's patch embedding has a bias (mmseg's default: none)
        drop_path_rate=0.1,
        final_norm=True,  # timm's final LayerNorm (norm -> ln1) on the last output
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrain/deit_base_patch16_224_mmseg.pth')))
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=5e-2),
    constructor='mmsamrs.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.9))
