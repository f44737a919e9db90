# SAMRS segmentation pre-training data (SPEC section 7): SOTA + SIOR + FAST, batches
# composed in proportion to the set sizes; validation on the 5% val splits, centre 512x512.
#
# Default layout, relative to the directory the tools run from (the repository root; see
# data/README.md): each set is the output of tools/generate_masks.py run with
# `--work-dir data/SAMRS/<SET>` (labels in gray/), plus the split files train.txt/val.txt
# that tools/make_splits.py writes there; the images stay in the folders the generator read:
#   SOTA  labels data/SAMRS/SOTA/gray   images data/DOTA/split_1024/images        (.png)
#   SIOR  labels data/SAMRS/SIOR/gray   images data/DIOR/JPEGImages                (.jpg)
#   FAST  labels data/SAMRS/FAST/gray   images data/FAIR1M/split_600/train/images  (.png)
#   python tools/make_splits.py data/SAMRS/SOTA/gray data/SAMRS/SOTA
#   python tools/make_splits.py data/SAMRS/SIOR/gray data/SAMRS/SIOR \
#       --restrict-to data/DIOR/ImageSets/Main/trainval.txt    # the paper uses DIOR trainval
#   python tools/make_splits.py data/SAMRS/FAST/gray data/SAMRS/FAST
# Elsewhere: link the folders into data/, or override one entry per set and loader, e.g.
#   --cfg-options train_dataloader.dataset.datasets.0.data_root=/big/disk ...
# The public SAMRS release (see mmsamrs/datasets/samrs.py): data_root='data/SAMRS/
# dotav2_1024/trainval', ann_file='train.txt' (val: 'valid.txt'),
# data_prefix=dict(img_path='images', seg_map_path='hbox_segs_init/gray'), and alike.
data_root = 'data'
samrs_heads = dict(SOTA=18, SIOR=20, FAST=37)  # set -> number of classes (model, metric)
# set -> (its image folder under data_root, its image size: random scaling is relative to it)
samrs_sets = dict(
    SOTA=('DOTA/split_1024/images', 1024),
    SIOR=('DIOR/JPEGImages', 800),
    FAST=('FAIR1M/split_600/train/images', 600))
crop_size = (224, 224)
val_crop_size = (512, 512)
# what these sets fix in a model (configs/sep/*: model = dict(_base_.samrs_model, ...)):
# one classifier per set, training batches of crop_size ('mmsamrs.': the model dicts of
# mmseg's model bases carry mmseg's scope).
samrs_model = dict(type='mmsamrs.MultiHeadEncoderDecoder', heads=samrs_heads,
                   data_preprocessor=dict(size=crop_size))
# PackSegInputs must keep the set name: MultiHeadEncoderDecoder picks a head by it
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label', 'dataset_name')

# the paper's augmentations after the set's own random scaling (augmentations.py docstring)
train_augmentations = [
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomRotate90', prob=0.5),
    dict(type='RandomApply', prob=0.3, transforms=[dict(type='RandomChoice', transforms=[
        [dict(type='PhotoMetricDistortion')], [dict(type='RandomGamma', prob=1.0)]])]),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CenterCrop', crop_size=val_crop_size),  # crops image and gt_seg_map
    # the crop is the whole input now: make ori_shape its shape, else the predictions are
    # resized back to the uncropped size (copies img_shape into ori_shape)
    dict(type='KeyMapper', mapping=dict(ori_shape='img_shape'),
         remapping=dict(ori_shape='ori_shape'), transforms=[]),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
samrs_datasets = {
    name: dict(type=f'{name}Dataset', data_root=data_root,
               data_prefix=dict(img_path=img_dir, seg_map_path=f'SAMRS/{name}/gray'))
    for name, (img_dir, _) in samrs_sets.items()}
concat = dict(type='ConcatDataset', ignore_keys=['classes', 'palette', 'dataset_name'])

train_dataloader = dict(
    batch_size=12,  # per GPU: B = 96 on 8 GPUs (schedules/sep_80k.py)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ProportionalMultiSourceSampler', batch_size=12),  # = batch_size
    dataset=dict(concat, datasets=[
        dict(samrs_datasets[name], ann_file=f'SAMRS/{name}/train.txt', pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomApply', prob=0.5, transforms=[dict(
                type='RandomResize', scale=(size, size), ratio_range=(0.5, 2.0),
                keep_ratio=True)]),
            *train_augmentations,
        ]) for name, (_, size) in samrs_sets.items()]))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(concat, datasets=[
        dict(samrs_datasets[name], ann_file=f'SAMRS/{name}/val.txt', pipeline=val_pipeline)
        for name in samrs_sets]))
test_dataloader = val_dataloader
# mIoU of each set and their mean (Table 9); per-class tables list class indices
val_evaluator = dict(type='MultiSetIoUMetric', num_classes=samrs_heads, iou_metrics=['mIoU'])
test_evaluator = val_evaluator
