"""Convert iSAID into the paper's fine-tuning crops (mmseg layout, background ignored).

Usage: ``python tools/dataset_converters/isaid.py SRC [-o data/iSAID] [--nproc 4]``, SRC
holding ``train/`` and ``val/`` of the official download (``images/part*.zip`` with the DOTA
images, ``Semantic_masks/images.zip``; or extracted). Writes 896 x 896 crops, stride 512, to
``img_dir/{train,val}`` + ``ann_dir/{train,val}``. Reruns resume; the exit status is 1 when
an image failed. See :mod:`mmsamrs.datasets.converters.isaid` (and its differences from
mmseg's converter).
"""
from mmsamrs.datasets.converters import convert_isaid
from mmsamrs.datasets.converters.cli import run_converter

if __name__ == '__main__':
    run_converter(convert_isaid, 'Convert iSAID for fine-tuning',
                  'folder with train/ and val/ of the iSAID download', 'data/iSAID',
                  size=896, stride=512)
