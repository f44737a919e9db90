"""ISPRS Potsdam -> the paper's fine-tuning crops (paper appendix A.6).

Input: the official downloads, ``2_Ortho_RGB.zip`` (``top_potsdam_<i>_<j>_RGB.tif``) and
``5_Labels_all.zip`` (``top_potsdam_<i>_<j>_label.tif``, colour labels), zipped or
extracted, anywhere below one folder. Output (:mod:`.base`): RGB crops of 512 x 512 with
stride 320 named ``<i>_<j>_<x0>_<y0>_<x1>_<y1>.png`` (mmseg's names), the 24 training tiles
in ``train``, the 14 test tiles in ``val`` (mmseg's split names); labels 0-4 = impervious
surfaces, building, low vegetation, tree, car; clutter and any other colour = 255. A
6000 x 6000 tile gives 19 x 19 = 361 crops: 8,664 training and 5,054 test crops, the
paper's numbers.

Differences from mmseg 1.2.2's ``tools/dataset_converters/potsdam.py`` (and its
``PotsdamDataset``): mmseg keeps clutter as a 6th class and writes values 1-6 (0 for
unknown colours, e.g. the black boundaries of the eroded labels) read with
``reduce_zero_label=True``; here clutter is ignored and the labels are final (no
reduction). mmseg places its windows at multiples of the crop size (``xmin = x *
clip_size``), so its ``--stride_size`` changes only how often the same crops are written:
144 crops per tile whatever the stride, not the paper's 361.
"""
from typing import Any, Dict, List, Sequence

from mmseg.datasets import PotsdamDataset

from mmsamrs.datasets.potsdam import Potsdam5Dataset
from mmsamrs.utils import IGNORE_INDEX
from .base import CropConverter, find_sources

#: The benchmark's tiles (as mmseg's converter lists them): 24 train, 14 test (``val``).
POTSDAM_SPLITS: Dict[str, Sequence[str]] = dict(
    train=('2_10', '2_11', '2_12', '3_10', '3_11', '3_12', '4_10', '4_11', '4_12', '5_10',
           '5_11', '5_12', '6_10', '6_11', '6_12', '6_7', '6_8', '6_9', '7_10', '7_11',
           '7_12', '7_7', '7_8', '7_9'),
    val=('5_15', '6_15', '6_13', '3_13', '4_14', '6_14', '5_14', '2_13', '4_15', '2_14',
         '5_13', '4_13', '3_14', '7_13'))
#: ISPRS label colour -> training label: the 5 classes, clutter (red) ignored.
POTSDAM_COLOURS = {
    **{tuple(c): i for i, c in enumerate(Potsdam5Dataset.METAINFO['palette'])},
    tuple(PotsdamDataset.METAINFO['palette'][5]): IGNORE_INDEX}
IMAGE_PATTERN = r'top_potsdam_(\d+_\d+)_RGB\.tif'
LABEL_PATTERN = r'top_potsdam_(\d+_\d+)_label\.tif'


def potsdam_items(src: str,
                  splits: Dict[str, Sequence[str]] = POTSDAM_SPLITS) -> List[Dict[str, Any]]:
    """Find the RGB and label tiles of ``splits`` below ``src``.

    Raises:
        FileNotFoundError: a tile's RGB image or label is missing.
    """
    images = find_sources(src, IMAGE_PATTERN)
    labels = find_sources(src, LABEL_PATTERN)
    items, missing = [], []
    for split, tiles in splits.items():
        for tile in tiles:
            if tile in images and tile in labels:
                items.append(dict(key=tile, split=split, image=images[tile],
                                  label=labels[tile]))
            else:
                missing.append(tile)
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} Potsdam tiles lack top_potsdam_<tile>_RGB.tif or '
            f'top_potsdam_<tile>_label.tif below {src!r} (loose or in its .zip files), '
            f'e.g. {missing[:5]}')
    return items


def convert_potsdam(src: str, out_dir: str, size: int = 512, stride: int = 320,
                    nproc: int = 1,
                    splits: Dict[str, Sequence[str]] = POTSDAM_SPLITS) -> Dict[str, Any]:
    """Convert the Potsdam tiles below ``src`` into ``out_dir``; return the report."""
    converter = CropConverter(out_dir, POTSDAM_COLOURS, '{key}_{x0}_{y0}_{x1}_{y1}', size,
                              stride, dict(dataset='ISPRS Potsdam RGB, clutter ignored'))
    return converter.run(potsdam_items(src, splits), nproc)
