# The fine-tuning model of configs/sep/upernet_swin-t_samrs.py: as upernet_r50.py (its SEP
# trunk as a plain EncoderDecoder, started by model.init_cfg); Swin's fine-tuning weight
# decay is its pre-training one, 0.01 (SPEC section 7).
_base_ = ['../../sep/upernet_swin-t_samrs.py']
model = dict(
    {k: v for k, v in _base_.model.items() if k != 'heads'}, _delete_=True, type='EncoderDecoder',
    init_cfg=dict(type='Pretrained', checkpoint='work_dirs/upernet_swin-t_samrs/sep_export.pth'))
