# UperNet + Swin-T, multi-head segmentation pre-training on SOTA + SIOR + FAST (SAMRS SEP):
# as upernet_r50_samrs.py with AdamW LR 6e-5, weight decay 0.01 (none on position tables and
# norms, as the official SAMRS code), cosine to 0. Backbone: ImageNet-1k Swin-T in mmseg's keys
# (OpenMMLab download, cached once in ~/.cache/torch). A checkpoint in the official Swin layout
# (Microsoft's, RSP's) first goes through
# <site-packages>/mmseg/.mim/tools/model_converters/swin2mmseg.py.
_base_ = [
    'mmseg::_base_/models/upernet_swin.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
swin_t = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_tiny_patch4_window7_224_20220317-1cdeb081.pth'  # noqa: E501
model = dict(
    _base_.samrs_model,
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=swin_t)))
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=1e-2),
    paramwise_cfg=dict(custom_keys={
        'absolute_pos_embed': dict(decay_mult=0.),
        'relative_position_bias_table': dict(decay_mult=0.),
        'norm': dict(decay_mult=0.)}))
