# UperNet + ViT-B fine-tuned on ISPRS Potsdam (paper Table 3) from the SEP model of
# configs/sep/upernet_vit-b_samrs.py; the start is model.init_cfg (../_base_/upernet_vit-b.py).
_base_ = ['../_base_/upernet_vit-b.py', '../../_base_/datasets/potsdam.py']
globals().update(_base_.finetune)  # the dataset's settings replace the SEP ones (finetune.py)
