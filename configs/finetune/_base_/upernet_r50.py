# Fine-tuning recipe of UperNet + ResNet-50: the model of
# configs/sep/upernet_r50_8xb12-80k_samrs-224x224.py
# (configs/_base_/models/upernet_r50.py) as a plain single-head mmseg EncoderDecoder, the SEP
# schedule for a batch of 8, AdamW LR 1e-3, ResNet's fine-tuning weight decay 1e-4, cosine
# to 5e-6 (paper appendix A.2). The start is ONE key, model.init_cfg:
#   IMP+SEP (default): the SEP checkpoint exported by tools/export_sep.py (backbone and
#     decoder bodies; classifiers fresh), loaded after the backbone's own checkpoint;
#   IMP / RSP baselines: model.init_cfg=None, i.e. the backbone checkpoint alone
#     (model.backbone.init_cfg.checkpoint: ImageNet here, or an RSP checkpoint).
_base_ = [
    '../../_base_/models/upernet_r50.py', '../../_base_/schedules/sep_80k.py',
    '../../_base_/default_runtime.py'
]
# the SEP schedule (80k iterations, cosine) for a batch of 8 (one GPU x 8; on two GPUs
# train_dataloader.batch_size=4): the LRs are for B = 8
auto_scale_lr = dict(base_batch_size=8)
model = dict(
    init_cfg=dict(
        type='Pretrained',
        checkpoint='work_dirs/upernet_r50_8xb12-80k_samrs-224x224/sep_export.pth'))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=1e-4))
param_scheduler = dict(eta_min=5e-6)
