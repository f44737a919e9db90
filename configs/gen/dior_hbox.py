# SIOR labels from all 23,463 DIOR images (800x800, no patching), H-Box prompts, SAM ViT-H.
# (The paper pre-trains only on the part made from DIOR trainval.)
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
test_dataloader = dict(
    dataset=dict(
        type='DIORDataset',
        data_root='data/DIOR',
        data_prefix=dict(
            img_path='JPEGImages', ann_path='Annotations/Horizontal Bounding Boxes')))
