# Prompt study of the SAMRS paper (section 2.4, Table 1): SAM ViT-H on the HRSC2016 test
# images that have ship masks, scored with mIoU_I / mIoU_P against those masks. The study
# runs the prompt settings given to tools/eval_prompts.py with one image-encoder pass per
# image; all 15 rows of Table 1:
#   python tools/eval_prompts.py configs/gen/hrsc_prompts.py --settings table1 \
#       --cfg-options model.checkpoint=sam_vit_h_4b8939.pth
# or some of them: --settings CP H-Box RH-Box+RH-Box-M. Without --settings, the setting of
# the SAMPrompts step below (H-Box). Several models side by side (one column group each):
#   --models vit_h sam2.1_hiera_l hq_vit_h   (or a study_models list in a child config)
# One setting with its labels, through the generator:
#   python tools/generate_masks.py configs/gen/hrsc_prompts.py
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/HRSC2016'
test_dataloader = dict(
    dataset=dict(
        type='HRSCDataset',
        data_root=data_root,
        ann_file='ImageSets/test.txt',
        masks_only=True,
        pipeline=[
            dict(type='LoadImageOrRecordError'),
            dict(type='LoadInstanceMasks'),
            dict(type='SAMPrompts', prompts='H-Box'),
            dict(type='PackSAMInputs'),
        ]))
test_evaluator = [dict(type='InstanceIoUMetric')]
