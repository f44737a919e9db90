# SIOR labels from all 23,463 DIOR images (800x800, no patching), H-Box prompts, SAM ViT-H.
# (The paper pre-trains only on the part made from DIOR trainval.)
# data_root is the official DIOR release: JPEGImages-trainval/ + JPEGImages-test/ (or one
# JPEGImages/), Annotations/Horizontal Bounding Boxes/ (DIOR-R only: Annotations/Oriented
# Bounding Boxes/, whose H-Box is the one around each rotated box). Another copy:
#   python tools/generate_masks.py configs/gen/dior_hbox.py --cfg-options data_root=/my/DIOR
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/DIOR'
test_dataloader = dict(dataset=dict(type='DIORDataset', data_root=data_root))
