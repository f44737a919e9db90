"""The benchmark's images and boxes, and one generation config per source dataset.

A scenario is a SAM size and a list of DOTA- or DIOR-layout images with their detection
boxes. Crops, tiles and box-jittered copies of DOTA P0706 (1111 x 1182 px, 536 boxes) are
written as DOTA files, each with the real objects lying wholly inside it.
"""
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mmsamrs.testing.dota_crops import (Crop, read_dota_objects, write_dota_crops,
                                      write_dota_image)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / 'tests' / 'data'
DIOR_00001 = DATA / 'dior' / 'JPEGImages' / '00001.jpg'
P0706 = DATA / 'dota' / 'images' / 'P0706.png'
P0706_LABELS = DATA / 'dota' / 'labelTxt' / 'P0706.txt'
GEN_CONFIGS = dict(dota='dota_hbox.py', dior='dior_hbox.py')
DIOR_ANN_DIRS = ('Horizontal Bounding Boxes', 'Oriented Bounding Boxes')

#: Small crops of P0706 with dozens of objects (the quick scenario).
SMALL_CROPS: List[Crop] = [('P0706_c0', 380, 220, 256, 24), ('P0706_c1', 704, 256, 256, 32),
                           ('P0706_c2', 576, 128, 320, 40), ('P0706_c3', 512, 640, 320, 40)]
#: SAM-size (1024 px) crops of P0706 from its corners, each with the first 40 of the
#: objects lying inside it (all of them, ~450, would make the run decoder-bound and long).
FULL_CROPS: List[Crop] = [('P0706_k0', 0, 0, 1024, 40), ('P0706_k1', 87, 158, 1024, 40),
                          ('P0706_k2', 0, 158, 1024, 40), ('P0706_k3', 87, 0, 1024, 40)]
#: Scenarios: SAM size, whole images, crops of P0706 (``--crops`` takes the first N).
SCENARIOS: Dict[str, dict] = {
    'tiny': dict(arch='tiny', images=[DIOR_00001, P0706], crops=SMALL_CROPS, num_crops=3),
    'vit_b': dict(arch='vit_b', images=[DIOR_00001], crops=FULL_CROPS, num_crops=3),
}
#: Side and stride of the ``--tiles`` grid over P0706.
TILE_SIZE, TILE_STRIDE = 256, 128


def source_of(image: Path) -> Tuple[str, Path]:
    """``(source, annotation file)`` of an image in DOTA or DIOR layout."""
    root = image.parent.parent
    if image.parent.name == 'images':
        ann = root / 'labelTxt' / (image.stem + '.txt')
        if ann.is_file():
            return 'dota', ann
    if image.parent.name == 'JPEGImages':
        for sub in DIOR_ANN_DIRS:
            ann = root / 'Annotations' / sub / (image.stem + '.xml')
            if ann.is_file():
                return 'dior', ann
    raise FileNotFoundError(
        f'{image}: no annotation found; expected DOTA layout (<root>/images/X.png with '
        f'<root>/labelTxt/X.txt) or DIOR layout (<root>/JPEGImages/X.jpg with '
        f'<root>/Annotations/{{{"|".join(DIOR_ANN_DIRS)}}}/X.xml)')


def write_crops(root: Path, crops: Sequence[Crop]) -> None:
    """Crops of P0706 as DOTA files, each with the objects lying inside it."""
    write_dota_crops(P0706, P0706_LABELS, root, crops)


def tile_crops(num: int) -> List[Crop]:
    """``num`` tiles of P0706 on a grid (:data:`TILE_SIZE`, :data:`TILE_STRIDE`)."""
    from PIL import Image
    width, height = Image.open(P0706).size
    grid = [(x, y) for y in range(0, height - TILE_SIZE + 1, TILE_STRIDE)
            for x in range(0, width - TILE_SIZE + 1, TILE_STRIDE)]
    if num > len(grid):
        raise ValueError(f'--tiles {num}: P0706 has only {len(grid)} tiles')
    return [(f'P0706_t{i:02d}', x, y, TILE_SIZE, None) for i, (x, y) in enumerate(grid[:num])]


def write_jittered(root: Path, num_boxes: int, seed: int = 0) -> str:
    """P0706 with its objects plus shifted copies (up to 16 px) up to ``num_boxes``."""
    from PIL import Image
    image = Image.open(P0706).convert('RGB')
    objects = read_dota_objects(P0706_LABELS)
    rng = np.random.default_rng(seed)
    limit = np.array(image.size, float) - 1
    while len(objects) < num_boxes:
        xy, rest = objects[rng.integers(len(objects))]
        objects.append((np.clip(xy + rng.uniform(-16, 16, 2), 0, limit), rest))
    name = f'P0706_j{num_boxes}'
    write_dota_image(root, name, image, objects)
    return name


def prepare_data(images: List[Path], crops: Sequence[Crop], jitter_boxes: int,
                 data_dir: Path) -> List[dict]:
    """One data root per source under ``data_dir`` (links to the images and annotations;
    crops and the jittered P0706 written); returns the groups with their dataset overrides."""
    groups: Dict[str, dict] = {}

    def dota_root() -> Path:
        root = data_dir / 'dota'
        for sub in ('images', 'labelTxt'):
            (root / sub).mkdir(parents=True, exist_ok=True)
        groups.setdefault('dota', dict(name='dota',
                                       dataset=dict(data_root=str(root), version='1.0')))
        return root

    for image in images:
        source, ann = source_of(image)
        if source == 'dota':
            root, img_sub, ann_sub = dota_root(), 'images', 'labelTxt'
        else:
            root = data_dir / source
            img_sub, ann_sub = 'JPEGImages', f'Annotations/{ann.parent.name}'
            groups.setdefault(source, dict(name=source, dataset=dict(
                data_root=str(root), data_prefix=dict(img_path=img_sub, ann_path=ann_sub))))
        for src, sub in ((image, img_sub), (ann, ann_sub)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            link = root / sub / src.name
            if not link.exists():
                link.symlink_to(src.resolve())
    if crops:
        write_crops(dota_root(), crops)
    if jitter_boxes:
        write_jittered(dota_root(), jitter_boxes)
    return [groups[k] for k in sorted(groups)]


def group_config(spec: dict, group: dict, path: Path) -> Path:
    """A generation config for one source: ``configs/gen/<source>_hbox.py`` + overrides
    (data root, SAM size and weights; precision and prompt chunk only when given)."""
    from mmsamrs.testing import TINY_SAM_ARCH
    model = dict(checkpoint=spec['checkpoint'])
    if spec['precision']:
        model['precision'] = spec['precision']
    if spec['chunk']:
        model['prompt_chunk_size'] = spec['chunk']
    arch = (f'dict(_delete_=True, **{TINY_SAM_ARCH!r})' if spec['arch'] == 'tiny'
            else repr(spec['arch']))
    loader = {}
    if spec['batch_size']:
        loader['batch_size'] = spec['batch_size']
    if spec['workers'] is not None:
        loader['num_workers'] = spec['workers']
    path.write_text(
        f"_base_ = [{str(REPO / 'configs' / 'gen' / GEN_CONFIGS[group['name']])!r}]\n"
        f'model = dict(arch={arch}, **{model!r})\n'
        f"test_dataloader = dict(dataset=dict(**{group['dataset']!r}), **{loader!r})\n"
        "test_cfg = dict(overlap_policy='last')\n"
        'randomness = dict(seed=0)\n'
        "log_level = 'WARNING'\n")
    return path
