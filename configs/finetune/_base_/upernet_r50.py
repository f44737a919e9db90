# The fine-tuning model of configs/sep/upernet_r50_samrs.py: its trunk (backbone, neck,
# decode-head and auxiliary-head bodies) as a plain single-head mmseg EncoderDecoder (the
# per-set `heads` dropped; the classes come from the dataset, configs/_base_/datasets/) and
# the fine-tuning weight decay of ResNet (SPEC section 7).
# The start is ONE key, model.init_cfg:
#   IMP+SEP (default): the SEP checkpoint exported by tools/export_sep.py (backbone and
#     decoder bodies; classifiers fresh), loaded after the backbone's own checkpoint;
#   IMP / RSP baselines: model.init_cfg=None, i.e. the backbone checkpoint alone
#     (model.backbone.init_cfg.checkpoint: ImageNet here, or an RSP checkpoint).
_base_ = ['../../sep/upernet_r50_samrs.py']
model = dict(
    {k: v for k, v in _base_.model.items() if k != 'heads'}, _delete_=True, type='EncoderDecoder',
    init_cfg=dict(type='Pretrained', checkpoint='work_dirs/upernet_r50_samrs/sep_export.pth'))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
