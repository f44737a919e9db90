# Runtime of training and testing segmentors (tools/train.py, tools/test.py): mmsamrs'
# scope, mmseg's visualizer, a fixed seed. The hooks are in the schedules (their intervals
# are the schedule's).
default_scope = 'mmsamrs'
custom_imports = dict(imports=['mmsamrs'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))  # CPU-only processes use gloo (mmsamrs.compat)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# a fixed seed: the sampler's data stream depends on it, and a resumed run (which skips the
# batches already trained) continues the same stream only with the same seed
randomness = dict(seed=2023)
