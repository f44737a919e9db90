# UperNet + ResNet-50 fine-tuned on iSAID (paper Table 4) from the SEP model of
# configs/sep/upernet_r50_samrs.py; the start is model.init_cfg (../_base_/upernet_r50.py).
_base_ = ['../_base_/upernet_r50.py', '../../_base_/datasets/isaid.py']
globals().update(_base_.finetune)  # the dataset's settings replace the SEP ones (finetune.py)
