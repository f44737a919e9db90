# Segmentation pre-training schedule (paper appendix A.2): AdamW with betas
# (0.9, 0.999), 80k iterations, cosine decay to a minimum LR, B = 96 images per iteration
# (8 GPUs x 12; the per-GPU batch is train_dataloader.batch_size, which the sampler's
# batch_size must equal). Each configs/sep/* config sets its backbone's LR, weight decay
# and eta_min (the minimum LR).
max_iters = 80000
optim_wrapper = dict(  # gradients clipped to norm 5 as in the official SAMRS code
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5, norm_type=2))
param_scheduler = dict(  # one scheduler (a dict: configs override eta_min alone)
    type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=0.0)
auto_scale_lr = dict(enable=False, base_batch_size=96)  # the LRs are for B = 96
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=8000, max_keep_ckpts=3,
                    save_best='mIoU_mean', rule='greater'),  # also keeps the best one
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmseg's hook, by scope: mmsamrs' hook registry does not load mmseg's hooks module
    visualization=dict(type='SAMRSVisualizationHook'))
