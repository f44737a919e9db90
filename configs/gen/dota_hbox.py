# SOTA labels from DOTA v2.0 1024x1024 patches (made by
# `tools/split_images.py configs/split/dota_1024.py`), H-Box prompts, SAM ViT-H.
# data_root holds images/ and labelTxt/. Another copy:
#   python tools/generate_masks.py configs/gen/dota_hbox.py --cfg-options data_root=/my/patches
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/DOTA/split_1024'
test_dataloader = dict(dataset=dict(type='DOTADataset', data_root=data_root, version='2.0'))
