# iSAID fine-tuning (SPEC section 8, paper A.6, Table 4): the crops written by
# tools/dataset_converters/isaid.py to data/iSAID (img_dir|ann_dir/{train,val}; the paper
# evaluates on val), 896 x 896, the 15 foreground classes, background = 255 (ignored).
# Metric: per-class IoU and mIoU; the best checkpoint by mIoU. Completes `finetune` of
# configs/finetune/_base_/finetune.py.
_base_ = ['../../finetune/_base_/finetune.py']
isaid_crop = (896, 896)
isaid = dict(type='iSAID15Dataset', data_root='data/iSAID')
isaid_val = dict(isaid, data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'))
finetune = dict(
    model=dict(decode_head=dict(num_classes=15), auxiliary_head=dict(num_classes=15),
               data_preprocessor=dict(size=isaid_crop)),
    train_dataloader=dict(dataset=dict(
        isaid, data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomApply', prob=0.5, transforms=[dict(
                type='RandomResize', scale=isaid_crop, ratio_range=(0.5, 2.0),
                keep_ratio=True)]),
            dict(type='RandomCrop', crop_size=isaid_crop),
            *_base_.finetune_augmentations
        ])),
    val_dataloader=dict(dataset=isaid_val),
    test_dataloader=dict(dataset=isaid_val),
    val_evaluator=dict(score='IoU'),
    test_evaluator=dict(score='IoU'),
    default_hooks=dict(checkpoint=dict(save_best='mIoU')))
