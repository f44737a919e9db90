# UperNet + ViT-B fine-tuned on iSAID (paper Table 4) from the SEP model of
# configs/sep/upernet_vit-b_8xb12-80k_samrs-224x224.py; the start is model.init_cfg
# (../_base_/upernet_vit-b.py).
_base_ = ['../_base_/upernet_vit-b.py', '../../_base_/datasets/isaid.py']
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
default_hooks = dict(checkpoint=dict(save_best=_base_.best_metric))
