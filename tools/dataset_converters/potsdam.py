"""Convert ISPRS Potsdam into the paper's fine-tuning crops (mmseg layout, clutter ignored).

Usage: ``python tools/dataset_converters/potsdam.py SRC [-o data/potsdam] [--nproc 4]``,
SRC holding ``2_Ortho_RGB.zip`` and ``5_Labels_all.zip`` (or their extracted tiles).
Writes 512 x 512 crops, stride 320, of the 24 train tiles to ``img_dir/train`` +
``ann_dir/train`` and of the 14 test tiles to ``img_dir/val`` + ``ann_dir/val``. Reruns
resume; the exit status is 1 when a tile failed. See
:mod:`mmsamrs.datasets.converters.potsdam` (and its differences from mmseg's converter).
"""
from mmsamrs.datasets.converters import convert_potsdam
from mmsamrs.datasets.converters.cli import run_converter

if __name__ == '__main__':
    run_converter(convert_potsdam, 'Convert ISPRS Potsdam (RGB) for fine-tuning',
                  'folder with 2_Ortho_RGB.zip and 5_Labels_all.zip', 'data/potsdam',
                  size=512, stride=320)
