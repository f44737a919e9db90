# UperNet + ResNet-50 fine-tuned on ISPRS Potsdam (paper Table 3) from the SEP model of
# configs/sep/upernet_r50_8xb12-80k_samrs-224x224.py; the start is model.init_cfg
# (../_base_/upernet_r50.py).
_base_ = ['../_base_/upernet_r50.py', '../../_base_/datasets/potsdam.py']
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
default_hooks = dict(checkpoint=dict(save_best=_base_.best_metric))
