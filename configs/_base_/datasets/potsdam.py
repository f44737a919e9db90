# ISPRS Potsdam fine-tuning (paper A.6, Table 3): the crops written by
# tools/dataset_converters/potsdam.py to data/potsdam (img_dir|ann_dir/train: the 24 train
# tiles; .../val: the 14 test tiles), RGB 512 x 512, 5 classes, clutter = 255 (ignored).
# Metric: per-class F1, OA and mF1; the best checkpoint by mF1 (best_metric). A fine-tuning
# config sets its model's num_classes and input size from num_classes and crop_size.
_base_ = ['./finetune_pipelines.py']
data_root = 'data/potsdam'
num_classes = 5
crop_size = (512, 512)
# label_layout='mmseg' (`--cfg-options label_layout=mmseg` reaches every loader) reads the
# labels of mmseg's own converter instead (see mmsamrs/datasets/potsdam.py);
# LoadCheckedAnnotations refuses out-of-range labels
label_layout = 'mmsamrs'
best_metric = 'mF1'
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
    dataset=dict(type='Potsdam5Dataset', data_root=data_root, label_layout=label_layout,
                 data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='Potsdam5Dataset', data_root=data_root, label_layout=label_layout,
                 data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
                 pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassScoreMetric', score='F1')
test_evaluator = val_evaluator
