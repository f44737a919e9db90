# UperNet + BEiT-B/16 (mmseg's BEiT + Feature2Pyramid), multi-head segmentation pre-training
# on the sets of `samrs_sets` (SAMRS SEP, Table 9 "BEiT+SEP ViT-B"): AdamW LR 6e-5, weight
# decay 0.05, cosine to 0, layer-wise LR decay 0.9 over the 12 blocks. Backbone: BEiT-B/16
# pre-trained on ImageNet-22k, converted once (configs/_base_/models/upernet_beit-b.py); its
# token grid is fixed to the 224 training crop, so validation on the 512x512 centre crops
# slides a 224 window.
_base_ = [
    '../_base_/models/upernet_beit-b.py', '../_base_/datasets/samrs.py',
    '../_base_/schedules/sep_80k_layer-decay.py', '../_base_/sep_runtime.py'
]
model = dict(type='mmsamrs.MultiHeadEncoderDecoder',
             data_preprocessor=dict(size=_base_.crop_size))  # one classifier per set
optim_wrapper = dict(optimizer=dict(lr=6e-5, weight_decay=5e-2))
