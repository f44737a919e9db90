# Few-label study (paper Table 5, column 3%): upernet_r50_1xb8-80k_potsdam-512x512.py trained on a
# reproducible
# 3% of the training crops (SeededSubset: mmsamrs/datasets/subset.py). Rows IMP+SEP / RSP+SEP:
# this config (RSP: with an RSP SEP model); IMP / RSP: --cfg-options model.init_cfg=None.
_base_ = ['./upernet_r50_1xb8-80k_potsdam-512x512.py']
train_dataloader = dict(dataset=dict(
    _delete_=True, type='SeededSubset', fraction=0.03, dataset=_base_.train_dataloader.dataset))
