# Labels from YOLO detection labels of one's own (`cls cx cy w h`, normalised), H-Box
# prompts, SAM ViT-H. data_root holds images/, labels/ (same stems) and the class list
# classes.txt (one name per line; an Ultralytics data.yaml with `names` works too:
# test_dataloader.dataset.class_file=data.yaml). The classes, label values, palette and
# the categories of instances.json follow the class list:
#   python tools/generate_masks.py configs/gen/yolo_hbox.py --cfg-options data_root=/my/yolo
# Ultralytics split folders: test_dataloader.dataset.data_prefix.img_path=images/train
#   test_dataloader.dataset.data_prefix.ann_path=labels/train
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/my_yolo'
test_dataloader = dict(
    dataset=dict(type='YOLODataset', data_root=data_root, class_file='classes.txt'))
