# Few-label study (paper Table 6, column 1%): upernet_r50_1xb8-80k_isaid-896x896.py trained on a
# reproducible
# 1% of the training crops (SeededSubset: mmsamrs/datasets/subset.py). Rows IMP+SEP / RSP+SEP:
# this config (RSP: with an RSP SEP model); IMP / RSP: --cfg-options model.init_cfg=None.
_base_ = ['./upernet_r50_1xb8-80k_isaid-896x896.py']
train_dataloader = dict(dataset=dict(
    _delete_=True, type='SeededSubset', fraction=0.01, dataset=_base_.train_dataloader.dataset))
