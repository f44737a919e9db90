# The prompt study (SAMRS paper, Table 1) on iSAID-style data: images, instance-id PNGs
# (id = R + 256*G + 65536*B) and semantic colour PNGs; boxes come from the masks. Same
# pipeline, metric and SAM ViT-H as configs/gen/hrsc_prompts.py. All 15 settings of Table 1:
#   python tools/eval_prompts.py configs/gen/isaid_prompts.py --settings table1
_base_ = ['./hrsc_prompts.py']
data_root = 'data/iSAID/val'
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ISAIDInstanceDataset',
        data_root=data_root,
        strict=False,
        pipeline=_base_.test_dataloader.dataset.pipeline))
