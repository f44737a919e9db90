"""Small DOTA-format sets cut from a real DOTA image (tests and the generation benchmark)."""
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

#: One DOTA object: its corner points ``(4, 2)`` and the rest of its line (class, difficult).
DOTAObject = Tuple[np.ndarray, List[str]]
#: A crop: name, x0, y0, side, most objects kept (None: all lying inside).
Crop = Tuple[str, int, int, int, Optional[int]]


def read_dota_objects(label_file: Path) -> List[DOTAObject]:
    """The objects of a DOTA ``labelTxt`` file written with its two header lines."""
    lines = Path(label_file).read_text().splitlines()[2:]
    return [(np.array(f[:8], dtype=float).reshape(4, 2), f[8:])
            for f in (line.split() for line in lines if line.strip())]


def write_dota_image(root: Path, name: str, image: Image.Image,
                     objects: Sequence[DOTAObject]) -> None:
    """``root/images/<name>.png`` and its ``root/labelTxt/<name>.txt`` (no header lines)."""
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'labelTxt').mkdir(exist_ok=True)
    image.save(root / 'images' / f'{name}.png')
    lines = [' '.join(f'{v:g}' for v in xy.ravel()) + ' ' + ' '.join(rest)
             for xy, rest in objects]
    (root / 'labelTxt' / f'{name}.txt').write_text('\n'.join(lines) + '\n')


def write_dota_crops(image_file: Path, label_file: Path, root: Path,
                     crops: Sequence[Crop]) -> None:
    """Square crops of a DOTA image as DOTA files under ``root``, each with the objects
    lying wholly inside it (in annotation order, at most the crop's limit)."""
    image = Image.open(image_file).convert('RGB')
    objects = read_dota_objects(label_file)
    for name, x0, y0, size, max_objects in crops:
        kept = [(xy - (x0, y0), rest) for xy, rest in objects
                if (xy - (x0, y0)).min() >= 0 and (xy - (x0, y0)).max() < size]
        write_dota_image(root, name, image.crop((x0, y0, x0 + size, y0 + size)),
                         kept[:max_objects])
