# The product's headline pre-training command keeps this path:
#   python tools/train.py configs/sep/upernet_vitaev2_samrs.py
# It is the UperNet + ViTAEv2-S SEP config under its OpenMMLab name, unchanged.
_base_ = ['./upernet_vitaev2-s_8xb12-80k_samrs-224x224.py']
