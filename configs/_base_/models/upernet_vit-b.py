# UperNet + ViT-B/16 (mmseg's VisionTransformer + MultiLevelNeck) started from ImageNet
# DeiT-B/16 (the official SAMRS code's "IMP" ViT weights). mmseg's VisionTransformer with the
# settings below is that network (timm layout: patch embedding and qkv with bias, absolute
# position embedding with a class token, final LayerNorm) but reads mmseg's key names, so
# convert the timm-layout checkpoint once (blocks.* -> layers.*, attn.qkv ->
# attn.attn.in_proj_, norm -> ln1, ...; the converter unwraps the 'model' entry):
#   wget https://dl.fbaipublicfiles.com/deit/deit_base_patch16_224-b5f2ef4d.pth
#   python <site-packages>/mmseg/.mim/tools/model_converters/vit2mmseg.py \
#       deit_base_patch16_224-b5f2ef4d.pth pretrain/deit_base_patch16_224_mmseg.pth
# The same for an MAE ViT-B (mae_pretrain_vit_base.pth): then set
# model.backbone.init_cfg.checkpoint.
_base_ = ['mmseg::_base_/models/upernet_vit-b16_ln_mln.py']
model = dict(
    pretrained=None,
    backbone=dict(
        img_size=(224, 224),  # the pre-training size; the position embedding adapts
        patch_bias=True,  # timm's patch embedding has a bias (mmseg's default: none)
        drop_path_rate=0.1,
        final_norm=True,  # timm's final LayerNorm (norm -> ln1) on the last output
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrain/deit_base_patch16_224_mmseg.pth')))
