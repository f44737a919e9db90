# upernet_internimage-t_8xb12-80k_samrs-224x224.py validated as the paper's Table 9 row
# "InternImage-T (dagger)":
# each 512x512 centre crop is resized to 224x224 (the pre-training input size, at which
# InternImage's DCNv3 offsets were learnt) before the model; the logits are resized back and
# scored against the 512x512 labels. Training is unchanged; to evaluate a trained model:
#   python tools/test.py configs/sep/upernet_internimage-t_8xb12-80k_samrs-224x224-val224x224.py \
#       work_dirs/upernet_internimage-t_8xb12-80k_samrs-224x224/iter_80000.pth
_base_ = './upernet_internimage-t_8xb12-80k_samrs-224x224.py'
# the image alone (labels stay 512x512) and its img_shape; ori_shape stays the crop's
resize_image_only = dict(
    type='KeyMapper', mapping=dict(img='img', img_shape='img_shape', gt_seg_map=...),
    auto_remap=True, transforms=[dict(type='Resize', scale=(224, 224), keep_ratio=False)])
# before the last step, PackSegInputs
val_pipeline = [*_base_.val_pipeline[:-1], resize_image_only, _base_.val_pipeline[-1]]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
