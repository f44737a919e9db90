# Labels from YOLO-OBB labels of one's own (`cls x1 y1 x2 y2 x3 y3 x4 y4`, normalised
# corners), prompted with the RH-Box (the horizontal box around each rotated box, the
# paper's best prompt for rotated boxes), SAM ViT-H. data_root holds images/, labels/
# and classes.txt (or data.yaml: test_dataloader.dataset.class_file=data.yaml):
#   python tools/generate_masks.py configs/gen/yolo-obb_rhbox.py --cfg-options data_root=/my/obb
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/my_yolo_obb'
test_dataloader = dict(
    dataset=dict(
        type='YOLOOBBDataset',
        data_root=data_root,
        class_file='classes.txt',
        pipeline=[
            dict(type='LoadImageOrRecordError'),
            dict(type='SAMPrompts', prompts=('rhbox', )),
            dict(type='PackSAMInputs'),
        ]))
