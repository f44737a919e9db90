"""Loading SAM weight files (``model.checkpoint``) safely: tensors only, no pickled code.

A ``.pth`` file is a pickle, and unpickling an arbitrary object can run code. SAM weight
files (the official ``sam_vit_*.pth``, ``sam_hq_vit_*.pth`` and ``sam2.1_hiera_*.pt``
files, and mmengine checkpoints of ``SAMGenerator``) hold only tensors and plain
containers, so they are always read with ``torch.load(weights_only=True)``, whatever the
torch version's default: a file that needs anything else is refused before any of its
code runs.
"""
import os
import pickle
import re
from typing import Dict
from urllib.error import URLError

import torch
from torch import Tensor

#: Keys under which a checkpoint file nests its state dict: mmengine's ``state_dict`` and
#: the official SAM 2 files' ``model``; the official SAM and HQ-SAM files are plain.
WRAPPER_KEYS = ('state_dict', 'model')
#: Key prefixes removed from a checkpoint's state dict: DDP's ``module.`` and
#: ``SAMGenerator``'s ``sam.`` (so its mmengine checkpoints load like the official files).
KEY_PREFIXES = re.compile(r'^(module\.)?(sam\.)?')


def download_weights(url: str):
    """Download ``url`` once into the torch hub cache and load it weights-only; on a machine
    that cannot reach it, say so and how to give the file instead."""
    try:
        return torch.hub.load_state_dict_from_url(url, map_location='cpu', weights_only=True)
    except URLError as error:
        raise RuntimeError(
            f'cannot download the SAM checkpoint {url} ({error.reason}); download it '
            f'elsewhere and give the file: --cfg-options model.checkpoint=/path/to/'
            f'{url.rsplit("/", 1)[-1]}') from None


def load_sam_weights(checkpoint: str) -> Dict[str, Tensor]:
    """The SAM state dict stored in ``checkpoint`` (a local path or an http(s) URL).

    URLs are downloaded once into the torch hub cache. A raw state dict (official SAM and
    HQ-SAM files), ``{'model': ...}`` (official SAM 2 files) and an mmengine
    ``{'state_dict': ...}`` checkpoint all work; ``module.``/``sam.`` key prefixes are
    removed.

    Raises:
        FileNotFoundError: no file at a local ``checkpoint``.
        ValueError: the file holds more than tensors (``weights_only`` refused it).
        RuntimeError: a URL that cannot be downloaded (no network).
    """
    try:
        if checkpoint.startswith(('http://', 'https://')):
            loaded = download_weights(checkpoint)
        else:
            path = os.path.expanduser(checkpoint)
            if not os.path.isfile(path):
                raise FileNotFoundError(f'SAM checkpoint {checkpoint} not found')
            loaded = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        needs = sorted(set(re.findall(r'GLOBAL (\S+)', str(error))))
        raise ValueError(
            f'SAM checkpoint {checkpoint} was refused: besides tensors it holds pickled '
            f'objects ({", ".join(needs) or error}), which SAM weight files never need and '
            'which may run code when loaded') from None
    state = None
    if isinstance(loaded, dict):
        wrapper = next((key for key in WRAPPER_KEYS if isinstance(loaded.get(key), dict)), None)
        state = loaded if wrapper is None else loaded[wrapper]
    if not isinstance(state, dict):
        raise ValueError(f'SAM checkpoint {checkpoint} holds {type(loaded).__name__}, '
                         'expected a state dict or a dict with a "state_dict" or "model" key')
    return {KEY_PREFIXES.sub('', key, count=1): value for key, value in state.items()}
