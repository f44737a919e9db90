"""iSAID -> the paper's fine-tuning crops (paper appendix A.6).

Input: the official iSAID download below one folder, per split ``<src>/<split>/``: the DOTA
images ``P0000.png`` (``images/part*.zip``) and the semantic colour masks
``P0000_instance_color_RGB.png`` (``Semantic_masks/images.zip``), zipped or extracted
anywhere below ``<src>/<split>``; the instance masks (``*_instance_id_RGB.png``) are not
read. Output (:mod:`.base`): 896 x 896 crops with stride 512 named
``P0000_<y0>_<y1>_<x0>_<x1>.png`` (mmseg's names) in ``train`` and ``val``; images smaller
than a crop are padded (image 0, label 255). Labels 0-14 = the 15 foreground classes in
mmseg's order (ship ... Harbor); background and unknown colours = 255. The paper reports
33,620 training and 11,533 validation crops.

Differences from mmseg 1.2.2's ``tools/dataset_converters/isaid.py`` (and its
``iSAIDDataset``): the windows are the same (patch 896, overlap 384), but mmseg keeps
background as class 0 of 16 and trains on it; here background is ignored and the 15
foreground classes are 0-14. Labels are named ``<name>.png`` (mmseg:
``<name>_instance_color_RGB.png``) and images are written as PNG (mmseg: BMP data in a
``.png`` file). The official SAMRS fine-tuning code trains background as a class and only
leaves it out of the mean IoU; the paper's text and this converter leave it out of both.
"""
from typing import Any, Dict, List, Sequence

from mmseg.datasets import iSAIDDataset

from mmsamrs.datasets.isaid import iSAID15Dataset
from mmsamrs.utils import IGNORE_INDEX
from .base import CropConverter, find_sources

#: iSAID mask colour -> training label: 15 foreground classes, background ignored.
ISAID_COLOURS = {
    **{tuple(c): i for i, c in enumerate(iSAID15Dataset.METAINFO['palette'])},
    tuple(iSAIDDataset.METAINFO['palette'][0]): IGNORE_INDEX}
IMAGE_PATTERN = r'(P\d+)\.png'
LABEL_PATTERN = r'(P\d+)_instance_color_RGB\.png'


def isaid_items(src: str, splits: Sequence[str] = ('train', 'val')) -> List[Dict[str, Any]]:
    """Find the images and semantic masks of ``splits`` below ``src/<split>``.

    Raises:
        FileNotFoundError: a split has no image, or an image lacks its mask or vice versa.
    """
    items = []
    for split in splits:
        root = f'{src}/{split}'
        images = find_sources(root, IMAGE_PATTERN)
        labels = find_sources(root, LABEL_PATTERN)
        unpaired = sorted(images.keys() ^ labels.keys())
        if not images or unpaired:
            raise FileNotFoundError(
                f'{root!r} (loose or in its .zip files): {len(images)} images '
                f'P<id>.png, {len(labels)} masks P<id>_instance_color_RGB.png'
                + (f'; unpaired: {unpaired[:5]}' if unpaired else ''))
        items += [dict(key=key, split=split, image=images[key], label=labels[key])
                  for key in sorted(images)]
    return items


def convert_isaid(src: str, out_dir: str, size: int = 896, stride: int = 512, nproc: int = 1,
                  splits: Sequence[str] = ('train', 'val')) -> Dict[str, Any]:
    """Convert the iSAID splits below ``src`` into ``out_dir``; return the report."""
    converter = CropConverter(out_dir, ISAID_COLOURS, '{key}_{y0}_{y1}_{x0}_{x1}', size,
                              stride, dict(dataset='iSAID, background ignored'))
    return converter.run(isaid_items(src, splits), nproc)
