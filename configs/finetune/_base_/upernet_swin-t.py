# Fine-tuning recipe of UperNet + Swin-T: as upernet_r50.py (the SEP model as a plain
# EncoderDecoder, started by model.init_cfg) with Swin's optimiser of
# configs/sep/upernet_swin-t_8xb12-80k_samrs-224x224.py: AdamW LR 6e-5, weight decay 0.01 (none on
# position
# tables and norms), cosine to 0 (paper appendix A.2).
_base_ = [
    '../../_base_/models/upernet_swin-t.py', '../../_base_/schedules/sep_80k.py',
    '../../_base_/default_runtime.py'
]
# the SEP schedule (80k iterations, cosine) for a batch of 8 (one GPU x 8; on two GPUs
# train_dataloader.batch_size=4): the LRs are for B = 8
auto_scale_lr = dict(base_batch_size=8)
model = dict(
    init_cfg=dict(
        type='Pretrained',
        checkpoint='work_dirs/upernet_swin-t_8xb12-80k_samrs-224x224/sep_export.pth'))
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=1e-2),
    paramwise_cfg=dict(custom_keys={
        'absolute_pos_embed': dict(decay_mult=0.),
        'relative_position_bias_table': dict(decay_mult=0.),
        'norm': dict(decay_mult=0.)}))
