# SAMRS segmentation pre-training data (paper section 4.1): the sets of `samrs_sets`, batches
# composed in proportion to the set sizes; validation on each set's val split, centre
# 512x512 crop. `samrs_sets` is the one key that chooses the sets: the model's heads (one
# classifier per set), the datasets, the sampler's quotas and the metric's per-set scores
# all follow it, in a child config or from the command line:
#   --cfg-options samrs_sets="['SOTA','SIOR']"
# (mmsamrs.SEPRunner fills in model.heads and the datasets' `sets` from it when it is built;
# the sampler and the metric read the sets from the datasets). A set is a built-in name
# (SOTA, SIOR, FAST) or a dict: a set of one's own, e.g.
#   samrs_sets = ['SOTA', dict(name='Roads', classes=('road', 'bridge'), data_root='data/roads')]
# reads data/roads/images, data/roads/gray and data/roads/{train,val}.txt; every field is in
# mmsamrs/datasets/samrs_sets.py.
#
# Default layout of the built-in sets, under data_root (the repository's data/, see
# data/README.md): labels from tools/generate_masks.py --work-dir data/SAMRS/<SET> (gray/),
# split files from tools/make_splits.py (train.txt, val.txt), images where the generator
# read them:
#   SOTA  labels data/SAMRS/SOTA/gray   images data/DOTA/split_1024/images        (.png)
#   SIOR  labels data/SAMRS/SIOR/gray   images data/DIOR/JPEGImages                (.jpg)
#   FAST  labels data/SAMRS/FAST/gray   images data/FAIR1M/split_600/train/images  (.png)
#   python tools/make_splits.py data/SAMRS/SOTA/gray data/SAMRS/SOTA
#   python tools/make_splits.py data/SAMRS/SIOR/gray data/SAMRS/SIOR \
#       --restrict-to data/DIOR/ImageSets/Main/trainval.txt    # the paper uses DIOR trainval
#   python tools/make_splits.py data/SAMRS/FAST/gray data/SAMRS/FAST
# Elsewhere: --cfg-options data_root=/big/disk, or one set's own paths, e.g.
#   samrs_sets = [dict(name='SOTA', data_root='data/SAMRS/dotav2_1024/trainval',
#                      img_path='images', seg_map_path='hbox_segs_init/gray',
#                      ann_file='{split}.txt'), 'SIOR', 'FAST']
data_root = 'data'
samrs_sets = ['SOTA', 'SIOR', 'FAST']
crop_size = (224, 224)
val_crop_size = (512, 512)
# PackSegInputs must keep the set name: MultiHeadEncoderDecoder picks a head by it
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label', 'dataset_name')

# the paper's augmentations (mmsamrs/datasets/transforms/augmentations.py docstring)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # x0.5-2 of each image's own size (the official code: of the set's image size)
    dict(type='RandomApply', prob=0.5, transforms=[dict(type='RandomRescale',
                                                        ratio_range=(0.5, 2.0))]),
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

train_dataloader = dict(
    batch_size=12,  # per GPU: B = 96 on 8 GPUs (schedules/sep_80k.py)
    num_workers=4,
    persistent_workers=True,
    # quotas from the set sizes; batch_size = the loader's, at least the number of sets
    sampler=dict(type='ProportionalMultiSourceSampler', batch_size=12),
    # `sets`: samrs_sets (filled in by SEPRunner)
    dataset=dict(type='SAMRSMultiSetDataset', split='train', data_root=data_root,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SAMRSMultiSetDataset', split='val', data_root=data_root,
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
# mIoU of each set and their mean (Table 9), the sets and class names from the dataset
val_evaluator = dict(type='MultiSetIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
