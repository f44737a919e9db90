# UperNet + Swin-T, multi-head segmentation pre-training on the sets of `samrs_sets` (SAMRS
# SEP): as upernet_r50_8xb12-80k_samrs-224x224.py with AdamW LR 6e-5, weight decay 0.01 (none on
# position
# tables and norms, as the official SAMRS code), cosine to 0. Backbone: ImageNet-1k Swin-T
# (configs/_base_/models/upernet_swin-t.py).
_base_ = [
    '../_base_/models/upernet_swin-t.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=1e-2),
    paramwise_cfg=dict(custom_keys={
        'absolute_pos_embed': dict(decay_mult=0.),
        'relative_position_bias_table': dict(decay_mult=0.),
        'norm': dict(decay_mult=0.)}))
