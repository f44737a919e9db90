# The fine-tuning model of configs/sep/upernet_vit-b_samrs.py: as upernet_r50.py (its SEP
# trunk as a plain EncoderDecoder, started by model.init_cfg); ViT's fine-tuning weight
# decay is its pre-training one, 0.05 (SPEC section 7). The backbone keeps the SEP
# img_size (224), so the SEP position embedding loads and is resized to the input.
_base_ = ['../../sep/upernet_vit-b_samrs.py']
model = dict(
    {k: v for k, v in _base_.model.items() if k != 'heads'}, _delete_=True, type='EncoderDecoder',
    init_cfg=dict(type='Pretrained', checkpoint='work_dirs/upernet_vit-b_samrs/sep_export.pth'))
