# Labels from a COCO detection file of one's own: H-Box prompts (each annotation's bbox),
# SAM ViT-H. The classes are the file's categories (in the order of their ids); the
# label values, palette and the categories of instances.json follow them. `iscrowd`
# annotations are skipped (with_crowd=True keeps them), `segmentation` is ignored.
# data_root holds annotations/instances.json and images/ (the `file_name`s):
#   python tools/generate_masks.py configs/gen/coco_hbox.py --cfg-options data_root=/my/coco
# Other names: test_dataloader.dataset.ann_file=... test_dataloader.dataset.data_prefix.img_path=...
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/my_coco'
test_dataloader = dict(
    dataset=dict(
        type='COCODetectionDataset',
        data_root=data_root,
        ann_file='annotations/instances.json',
        data_prefix=dict(img_path='images')))
