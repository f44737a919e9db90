# ISPRS Potsdam fine-tuning (SPEC section 8, paper A.6, Table 3): the crops written by
# tools/dataset_converters/potsdam.py to data/potsdam (img_dir|ann_dir/train: the 24 train
# tiles; .../val: the 14 test tiles), RGB 512 x 512, 5 classes, clutter = 255 (ignored).
# Metric: per-class F1, OA and mF1; the best checkpoint by mF1. Completes `finetune` of
# configs/finetune/_base_/finetune.py.
_base_ = ['../../finetune/_base_/finetune.py']
potsdam_crop = (512, 512)
potsdam = dict(type='Potsdam5Dataset', data_root='data/potsdam')
potsdam_test = dict(potsdam, data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'))
finetune = dict(
    model=dict(decode_head=dict(num_classes=5), auxiliary_head=dict(num_classes=5),
               data_preprocessor=dict(size=potsdam_crop)),
    train_dataloader=dict(dataset=dict(
        potsdam, data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomApply', prob=0.5, transforms=[dict(
                type='RandomResize', scale=potsdam_crop, ratio_range=(0.5, 2.0),
                keep_ratio=True)]),
            dict(type='RandomCrop', crop_size=potsdam_crop),
            *_base_.finetune_augmentations
        ])),
    val_dataloader=dict(dataset=potsdam_test),
    test_dataloader=dict(dataset=potsdam_test),
    val_evaluator=dict(score='F1'),
    test_evaluator=dict(score='F1'),
    default_hooks=dict(checkpoint=dict(save_best='mF1')))
