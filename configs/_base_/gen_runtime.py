# Runtime of label generation (tools/generate_masks.py): SAM inference over a source
# dataset through mmengine's Runner with mmsamrs' GenerationLoop.
default_scope = 'mmsamrs'
custom_imports = dict(imports=['mmsamrs'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # use backend='gloo' for CPU-only multi-process runs
    dist_cfg=dict(backend='nccl'))
log_level = 'INFO'
# A fixed seed: with random SAM weights (model.checkpoint=None) every run draws the same
# weights, so a resumed run continues with the same model. settings.json pins it.
randomness = dict(seed=0)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50))
test_cfg = dict(
    type='GenerationLoop',
    out_dir=None,  # defaults to work_dir
    resume=False,  # --resume sets it
    overlap_policy='small_on_top',  # 'score' | 'last' (public SAMRS release)
    write_empty=True)
test_evaluator = []

# Source dataset: each configs/gen/* config sets type, data_root and data_prefix.
# strict=False: a malformed object or file is reported (failures.json, the reader's report)
# and skipped; the run goes on.
test_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        strict=False,
        allow_empty=True,
        pipeline=[
            dict(type='LoadImageOrRecordError'),
            dict(type='SAMPrompts', prompts=('hbox', )),
            dict(type='PackSAMInputs'),
        ]))
