# iSAID fine-tuning (paper A.6, Table 4): the crops written by tools/dataset_converters/
# isaid.py to data/iSAID (img_dir|ann_dir/{train,val}; the paper evaluates on val),
# 896 x 896, the 15 foreground classes, background = 255 (ignored).
# Metric: per-class IoU and mIoU; the best checkpoint by mIoU (best_metric). A fine-tuning
# config sets its model's num_classes and input size from num_classes and crop_size.
_base_ = ['./finetune_pipelines.py']
data_root = 'data/iSAID'
num_classes = 15
crop_size = (896, 896)
# label_layout='mmseg' (`--cfg-options label_layout=mmseg` reaches every loader) reads the
# labels of mmseg's own converter instead (see mmsamrs/datasets/isaid.py);
# LoadCheckedAnnotations refuses out-of-range labels
label_layout = 'mmsamrs'
best_metric = 'mIoU'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedAnnotations'),
    dict(type='RandomApply', prob=0.5, transforms=[dict(
        type='RandomResize', scale=crop_size, ratio_range=(0.5, 2.0), keep_ratio=True)]),
    dict(type='RandomCrop', crop_size=crop_size),
    *_base_.finetune_augmentations
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='iSAID15Dataset', data_root=data_root, label_layout=label_layout,
                 data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='iSAID15Dataset', data_root=data_root, label_layout=label_layout,
                 data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
                 pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassScoreMetric', score='IoU')
test_evaluator = val_evaluator
