# SOTA labels from DOTA v2.0 1024x1024 patches (made by
# `tools/split_images.py configs/split/dota_1024.py`), H-Box prompts, SAM ViT-H.
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
test_dataloader = dict(
    dataset=dict(
        type='DOTADataset',
        data_root='data/DOTA/split_1024',
        data_prefix=dict(img_path='images', ann_path='labelTxt'),
        version='2.0'))
