# Fine-tuning settings shared by Potsdam and iSAID (SPEC sections 7-8): batch 8 (one GPU x 8;
# on two GPUs train_dataloader.batch_size=4), the SEP schedule otherwise (80k iterations,
# the backbone's AdamW LR and cosine decay; the fine-tuning weight decay is set per backbone
# in configs/finetune/_base_/upernet_*.py), the official code's augmentations (random
# scaling 0.5-2 with probability 0.5, crop, H/V flips, 90-degree rotations).
#
# A fine-tuning config inherits its SEP config, which already defines the model, data,
# metric and hooks, and mmengine refuses a key that two `_base_` files define. So the
# fine-tuning settings are one dict, `finetune`, which configs/_base_/datasets/{potsdam,
# isaid}.py complete and each fine-tuning config lays over its SEP settings with
# `globals().update(_base_.finetune)`.
finetune_augmentations = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomRotate90', prob=0.5),
    dict(type='PackSegInputs')
]
finetune_test_pipeline = [  # the converted crops are evaluated whole, as they are
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
finetune = dict(
    train_dataloader=dict(
        batch_size=8,
        sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
        dataset=dict(_delete_=True)),
    val_dataloader=dict(dataset=dict(_delete_=True, pipeline=finetune_test_pipeline)),
    test_dataloader=dict(dataset=dict(_delete_=True, pipeline=finetune_test_pipeline)),
    val_evaluator=dict(_delete_=True, type='ClassScoreMetric'),
    test_evaluator=dict(_delete_=True, type='ClassScoreMetric'),
    auto_scale_lr=dict(base_batch_size=8),  # the LRs are for B = 8 when fine-tuning
    model_wrapper_cfg=dict(find_unused_parameters=False))  # one head: every weight is used
