# Cut FAIR1M 2.0 scenes into 600x600 patches (FAST's patch size in SAMRS) with 100
# pixels of overlap (stride 500; a 1000x1000 scene, FAIR1M's most common size, gives 4
# patches overlapping by 400). A cut object is kept when >= 70% of its area lies in the
# window and clipped to it.
# data_root is one split of the official FAIR1M 2.0 release: train/ (part1/ and part2/,
# each with images/ and labelXml/) or validation/ (images/, labelXml/).
#   python tools/split_images.py configs/split/fair1m_600.py
#   python tools/split_images.py configs/split/fair1m_600.py \
#       --cfg-options data_root=data/FAIR1M/validation out_dir=data/FAIR1M/split_600/validation
# Output: out_dir/images/*.png + out_dir/labelXml/*.xml, read by FAIR1MDataset.
# FAIR1M's train and validation ids overlap: split them into different out_dirs.
custom_imports = dict(imports=['mmsamrs'], allow_failed_imports=False)

data_root = 'data/FAIR1M/train'
dataset = dict(type='FAIR1MDataset', data_root=data_root, strict=False)

splitter = dict(
    patch_size=600,
    overlap=100,
    min_inside=0.7,
    pad_value=0,
    keep_empty=False)

out_dir = 'data/FAIR1M/split_600/train'
nproc = 1
