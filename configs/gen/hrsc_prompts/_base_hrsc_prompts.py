# Prompt study of the SAMRS paper (section 2.4, Table 1): SAM ViT-H on the HRSC2016 test
# images that have ship masks, scored with mIoU_I / mIoU_P against those masks.
# Each other file of this folder is one row of Table 1 and only sets the prompts of the
# SAMPrompts step (pipeline[2]). All rows at once, one image-encoder pass per image:
#   python tools/eval_prompts.py configs/gen/hrsc_prompts --cfg-options \
#       model.checkpoint=sam_vit_h_4b8939.pth test_dataloader.dataset.data_root=data/HRSC2016
# One row with its labels: python tools/generate_masks.py configs/gen/hrsc_prompts/hbox.py
_base_ = ['../../_base_/gen_runtime.py', '../../_base_/models/sam_vit-h.py']
test_dataloader = dict(
    dataset=dict(
        type='HRSCDataset',
        data_root='data/HRSC2016',
        ann_file='ImageSets/test.txt',
        masks_only=True,
        pipeline=[
            dict(type='LoadImageOrRecordError'),
            dict(type='LoadInstanceMasks'),
            dict(type='SAMPrompts', prompts='H-Box'),
            dict(type='PackSAMInputs'),
        ]))
test_evaluator = [dict(type='InstanceIoUMetric')]
