# Fine-tuning recipe of UperNet + ViT-B: as upernet_r50.py (the SEP model as a plain
# EncoderDecoder, started by model.init_cfg) with the ViT optimiser of
# configs/sep/upernet_vit-b_8xb12-80k_samrs-224x224.py: AdamW LR 6e-5, weight decay 0.05, cosine to
# 0,
# layer-wise LR decay 0.9 (paper appendix A.2). The backbone keeps the SEP img_size (224), so
# the SEP position embedding loads and is resized to the input.
_base_ = [
    '../../_base_/models/upernet_vit-b.py', '../../_base_/schedules/sep_80k_layer-decay.py',
    '../../_base_/default_runtime.py'
]
# the SEP schedule (80k iterations, cosine) for a batch of 8 (one GPU x 8; on two GPUs
# train_dataloader.batch_size=4): the LRs are for B = 8
auto_scale_lr = dict(base_batch_size=8)
model = dict(
    init_cfg=dict(
        type='Pretrained',
        checkpoint='work_dirs/upernet_vit-b_8xb12-80k_samrs-224x224/sep_export.pth'))
optim_wrapper = dict(optimizer=dict(lr=6e-5, weight_decay=5e-2))
