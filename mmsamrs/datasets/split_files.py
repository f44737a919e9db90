"""Reproducible train/val splits of the SAMRS sets.

A split file lists one image stem per line (no folder, no suffix), as mmseg's ``ann_file``
and the official SAMRS code read them. :func:`make_split` splits the labelled images of one
set: the stems are put in a fixed pseudo-random order, a SHA-256 of ``'<seed>:<stem>'``
(the same on every machine and library version), and the first
``floor(n * val_ratio)`` of them form the validation split. With ``val_ratio=0.05`` this
reproduces the paper's sizes: 874 + 586 + 3,207 = 4,667 validation and 88,685 training
images from SOTA (17,480), SIOR-trainval (11,725) and FAST (64,147). A set is never left
without validation data: when ``floor(n * val_ratio)`` is 0 (fewer than 20 images at 5%),
:func:`make_split` still puts one image into ``val.txt``, and it refuses a set of fewer than
2 images, which cannot have both a training and a validation image.
"""
import hashlib
import os
from collections import Counter
from fractions import Fraction
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mmsamrs.utils import atomic_write_bytes

TRAIN_FILE, VAL_FILE = 'train.txt', 'val.txt'


def read_stems(path: str) -> List[str]:
    """Stems listed in a split file, one per line (blank lines skipped, a UTF-8 byte-order
    mark accepted); duplicates fail."""
    with open(path, encoding='utf-8-sig') as f:
        stems = [line.strip() for line in f if line.strip()]
    duplicates = sorted(s for s, count in Counter(stems).items() if count > 1)
    if duplicates:
        raise ValueError(f'split file {path!r} lists {len(duplicates)} stems more than once, '
                         f'e.g. {duplicates[:5]}')
    return stems


def write_stems(path: str, stems: Iterable[str]) -> None:
    """Write one stem per line, atomically."""
    atomic_write_bytes(path, ''.join(f'{stem}\n' for stem in stems).encode('utf-8'))


def label_stems(label_dir: str, suffix: str = '.png') -> List[str]:
    """Sorted stems of the label files (``<stem><suffix>``) in ``label_dir``."""
    if not os.path.isdir(label_dir):
        raise FileNotFoundError(f'label folder {label_dir!r} not found (cwd={os.getcwd()!r})')
    return sorted(e.name[:-len(suffix)] for e in os.scandir(label_dir)
                  if e.is_file() and e.name.endswith(suffix) and len(e.name) > len(suffix))


def num_val(num_images: int, val_ratio: float) -> int:
    """``floor(num_images * val_ratio)``, computed on the decimal value of ``val_ratio``."""
    if not 0 <= val_ratio < 1:
        raise ValueError(f'val_ratio must be in [0, 1), got {val_ratio}')
    return int(num_images * Fraction(str(val_ratio)))


def split_stems(stems: Sequence[str], val_ratio: float = 0.05, seed: int = 2023,
                min_val: int = 0) -> Tuple[List[str], List[str]]:
    """Split ``stems`` into sorted ``(train, val)`` lists; depends only on the set and seed.

    ``val`` holds ``floor(len(stems) * val_ratio)`` stems, raised to ``min_val`` as long as
    one stem is left for ``train``.
    """
    unique = sorted(set(stems))
    if len(unique) != len(stems):
        raise ValueError(f'{len(stems) - len(unique)} duplicate stems given')
    order = sorted(unique, key=lambda s: hashlib.sha256(f'{seed}:{s}'.encode()).digest())
    cut = max(num_val(len(order), val_ratio), min(min_val, len(order) - 1))
    return sorted(order[cut:]), sorted(order[:cut])


def restrict_stems(stems: Sequence[str],
                   allowed: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Keep the ``stems`` found in ``allowed``; return ``(kept, allowed stems not in stems)``."""
    have, keep = set(stems), set(allowed)
    return [s for s in stems if s in keep], [s for s in allowed if s not in have]


def make_split(label_dir: str, out_dir: str, val_ratio: float = 0.05, seed: int = 2023,
               restrict_to: Optional[str] = None, suffix: str = '.png') -> Dict[str, object]:
    """Split the labelled images of one set and write ``train.txt`` and ``val.txt``.

    Args:
        label_dir: the set's label folder (``gray/``); every label PNG is one image.
        out_dir: where the split files are written (created if missing).
        val_ratio: share of the validation split, in (0, 1), rounded down but at least
            one image (see the module docstring).
        seed: seed of the order; the same seed and labels give the same split.
        restrict_to: optional stem list (e.g. DIOR ``ImageSets/Main/trainval.txt`` for
            SIOR: SIOR image stems are DIOR's); labels of other images are left out.
        suffix: label file suffix.

    Returns:
        A summary: ``labels``, ``train``, ``val`` (counts), ``dropped`` (labels outside
        ``restrict_to``), ``unlabelled`` (listed in ``restrict_to`` but without a label,
        e.g. ``['00012']``), the written ``files`` and ``raised_val`` (True when
        ``floor(n * val_ratio)`` was 0 and one image was put into ``val`` instead).

    Raises:
        ValueError: ``val_ratio`` not in (0, 1), or fewer than 2 images to split.
    """
    if not 0 < val_ratio < 1:
        raise ValueError(f'val_ratio must be in (0, 1): every set needs validation images, '
                         f'got {val_ratio}')
    stems = label_stems(label_dir, suffix)
    kept, unlabelled = (stems, []) if restrict_to is None else restrict_stems(
        stems, read_stems(restrict_to))
    if not kept:
        raise ValueError(f'no labels to split in {label_dir!r}'
                         + (f' among the stems of {restrict_to!r}' if restrict_to else ''))
    if len(kept) < 2:
        raise ValueError(f'only 1 labelled image ({kept[0]!r}) in {label_dir!r}'
                         + (f' among the stems of {restrict_to!r}' if restrict_to else '')
                         + ': a split needs at least 2, one for train.txt and one for '
                         'val.txt')
    train, val = split_stems(kept, val_ratio, seed, min_val=1)
    os.makedirs(out_dir, exist_ok=True)
    files = [os.path.join(out_dir, TRAIN_FILE), os.path.join(out_dir, VAL_FILE)]
    for path, part in zip(files, (train, val)):
        write_stems(path, part)
    return dict(labels=len(stems), train=len(train), val=len(val),
                dropped=len(stems) - len(kept), unlabelled=unlabelled, files=files,
                raised_val=num_val(len(kept), val_ratio) == 0)
