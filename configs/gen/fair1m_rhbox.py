# FAST labels from FAIR1M 2.0 600x600 patches (made by
# `tools/split_images.py configs/split/fair1m_600.py`). FAIR1M has rotated boxes only, so
# the prompt is the RH-Box (circumscribed horizontal box of the R-Box), SAM ViT-H.
# data_root holds images/ and labelXml/ (or the official part1/, part2/ folders of them).
# Another copy: --cfg-options data_root=/my/patches
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/FAIR1M/split_600/train'
test_dataloader = dict(
    dataset=dict(
        type='FAIR1MDataset',
        data_root=data_root,
        pipeline=[
            dict(type='LoadImageOrRecordError'),
            dict(type='SAMPrompts', prompts=('rhbox', )),
            dict(type='PackSAMInputs'),
        ]))
