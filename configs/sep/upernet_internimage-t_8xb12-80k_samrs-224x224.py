# UperNet + InternImage-T (mmsamrs.InternImage, DCNv3), multi-head segmentation pre-training
# on the sets of `samrs_sets` (SAMRS SEP, Table 9 "IMP+SEP InternImage-T"): AdamW LR 6e-5,
# weight decay 0.05, cosine to 0 (the official recipe's layer decay for T is 1.0, i.e.
# none). Backbone: ImageNet-1k InternImage-T (configs/_base_/models/upernet_internimage-t.py).
# The paper evaluates this model at 224 x 224 as well (Table 9 note, and
# upernet_internimage-t_8xb12-80k_samrs-224x224-val224x224.py): the 512 x 512 centre crops score
# low with the
# 224-pre-trained DCNv3 offsets.
_base_ = [
    '../_base_/models/upernet_internimage-t.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=6e-5, weight_decay=5e-2))
