# Mask2Former + ResNet-50, multi-head segmentation pre-training on the sets of `samrs_sets`
# (SAMRS SEP, section 4.1): shared pixel and transformer decoders, one query classifier per
# set (mmsamrs.MultiSetMask2FormerHead). Schedule and optimiser of the ResNet rows (AdamW LR
# 1e-3, weight decay 0.05, cosine to 5e-6). Backbone: ImageNet ResNet-50 (torchvision
# weights, downloaded once to ~/.cache/torch). The paper reports that this model over-fits
# SAMRS (validation mIoU near 0, Table 9 note) and needs further tuning.
_base_ = [
    '../_base_/models/mask2former_r50.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=5e-2))
param_scheduler = dict(eta_min=5e-6)
