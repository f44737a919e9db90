# Labels from Pascal VOC XML annotations, H-Box prompts, SAM ViT-H. data_root is a VOC
# release (JPEGImages/, Annotations/; every XML file is read, or one split:
# test_dataloader.dataset.ann_file=ImageSets/Main/trainval.txt):
#   python tools/generate_masks.py configs/gen/voc_hbox.py --cfg-options data_root=/my/VOC
# The classes are Pascal VOC's 20; VOC-format data of other classes sets them in a child
# config (the palette is generated when omitted), e.g.
#   _base_ = ['./voc_hbox.py']
#   test_dataloader = dict(dataset=dict(metainfo=dict(classes=('building', 'tree'))))
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/VOCdevkit/VOC2012'
voc_classes = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
               'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
               'sheep', 'sofa', 'train', 'tvmonitor')
test_dataloader = dict(
    dataset=dict(type='VOCDataset', data_root=data_root, metainfo=dict(classes=voc_classes)))
