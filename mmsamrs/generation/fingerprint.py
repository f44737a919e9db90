"""A fingerprint of a model's weights, pinned with a generation run's settings."""
import hashlib

import torch


def state_dict_fingerprint(module: torch.nn.Module) -> str:
    """SHA-256 (hex) of a module's state dict: every tensor's name, dtype, shape and bytes.

    Two modules have the same fingerprint exactly when they hold the same weights, which
    identifies random weights (seed) as well as a checkpoint, wherever its file lies.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensor.shape)}\n'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()
