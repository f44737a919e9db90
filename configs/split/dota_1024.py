# Cut DOTA scenes into 1024x1024 patches (SOTA's patch size in SAMRS) with 200
# pixels of overlap (stride 824; the DOTA devkit's default gap). A cut object is kept
# when >= 70% of its area lies in the window (devkit threshold) and clipped to it.
# data_root is one split of the official DOTA release: images/ and labelTxt/ (the
# labelTxt-v2.0 annotations unzipped or linked as labelTxt). Run once per split into the
# same folder (DOTA image ids are unique across splits):
#   python tools/split_images.py configs/split/dota_1024.py
#   python tools/split_images.py configs/split/dota_1024.py --cfg-options data_root=data/DOTA/val
# Output: out_dir/images/*.png + out_dir/labelTxt/*.txt, read by DOTADataset.
custom_imports = dict(imports=['mmsamrs'], allow_failed_imports=False)

data_root = 'data/DOTA/train'
dataset = dict(
    type='DOTADataset',
    data_root=data_root,
    version='2.0',
    strict=False)  # record bad input in the report and skip it

splitter = dict(
    patch_size=1024,
    overlap=200,
    min_inside=0.7,
    pad_value=0,
    keep_empty=False)  # patches without objects carry no labels: not written

out_dir = 'data/DOTA/split_1024'
nproc = 1  # worker processes
