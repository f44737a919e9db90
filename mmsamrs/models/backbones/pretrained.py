"""Loading public pre-trained checkpoints into the backbones of :mod:`mmsamrs.models`.

Every backbone here takes ``init_cfg=dict(type='Pretrained', checkpoint=PATH_OR_URL)`` as
mmseg's do, and reads the checkpoint in the key layout of its family's public release (each
backbone's docstring names it). :func:`load_pretrained` does the common part: read the file
through mmengine's checkpoint loaders (paths, URLs, ``open-mmlab://``...), unwrap the state
dict from its container (``state_dict``/``model``/``module``), strip the ``module.`` and
``backbone.`` prefixes of wrapped or whole-model checkpoints, let the backbone map the
remaining keys to its own names, and load non-strictly, logging missing and unexpected keys.

The helpers below map the key layout shared by timm's, DeiT's, MAE's and BEiT's ViTs.
"""
import math
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
from torch import Tensor, nn

StateDict = Dict[str, Tensor]

_CONTAINERS = ('state_dict', 'model', 'module')
_PREFIXES = ('module.', 'backbone.')


def unwrap_state_dict(checkpoint: dict) -> StateDict:
    """The parameter dict of a checkpoint, out of its container and without wrapper prefixes.

    Only when every key carries a prefix is it removed, so a backbone's own
    ``<name>.backbone...`` keys are left alone.
    """
    state = checkpoint
    for container in _CONTAINERS:
        if isinstance(state, dict) and isinstance(state.get(container), dict):
            state = state[container]
            break
    for prefix in _PREFIXES:
        if state and all(key.startswith(prefix) for key in state):
            state = {key[len(prefix):]: value for key, value in state.items()}
    return dict(state)


def load_pretrained(module: nn.Module,
                    checkpoint: str,
                    convert: Optional[Callable[[StateDict], StateDict]] = None) -> None:
    """Load a public checkpoint into ``module`` (non-strict), logging what did not match.

    Args:
        module: The backbone.
        checkpoint: Path or URL (anything mmengine's ``CheckpointLoader`` reads).
        convert: Maps the unwrapped state dict (public key layout) to ``module``'s keys.
    """
    state = unwrap_state_dict(
        CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu', logger='current'))
    if convert is not None:
        state = convert(state)
    print_log(f'{type(module).__name__}: loading {checkpoint}', logger='current')
    load_state_dict(module, state, strict=False, logger='current')


def resize_grid_embedding(embed: Tensor, grid: tuple, num_extra_tokens: int = 0,
                          keep_extra_tokens: bool = False) -> Tensor:
    """Resize a (1, extra + h*w, C) position embedding of a square grid to ``grid`` (bicubic).

    Args:
        embed: The checkpoint's embedding; its first ``num_extra_tokens`` rows belong to the
            class (and distillation) tokens.
        grid: The (rows, cols) of the target patch grid.
        num_extra_tokens: How many leading rows are not grid positions.
        keep_extra_tokens: Keep those rows in front of the result (else drop them).
    """
    extra, pos = embed[:, :num_extra_tokens], embed[:, num_extra_tokens:]
    side = math.isqrt(pos.shape[1])
    if side * side != pos.shape[1]:
        raise ValueError(f'position embedding of {pos.shape[1]} grid positions is not square')
    if (side, side) != tuple(grid):
        pos = pos.reshape(1, side, side, -1).permute(0, 3, 1, 2)
        pos = F.interpolate(pos.float(), size=tuple(grid), mode='bicubic',
                            align_corners=False).to(embed.dtype)
        pos = pos.flatten(2).transpose(1, 2)
    return torch.cat([extra, pos], dim=1) if keep_extra_tokens else pos


def merge_qv_bias(state: StateDict) -> StateDict:
    """BEiT-style ``attn.q_bias``/``attn.v_bias`` -> timm's ``attn.qkv.bias`` (zero k bias).

    BEiT, and MAE models trained with BEiT-style attention, store the query and value biases
    apart and have no key bias; a timm-layout ``qkv`` with bias holds all three.
    """
    state = dict(state)
    for key in [k for k in state if k.endswith('attn.q_bias')]:
        prefix = key[:-len('q_bias')]
        q_bias = state.pop(key)
        v_bias = state.pop(prefix + 'v_bias')
        state[prefix + 'qkv.bias'] = torch.cat([q_bias, torch.zeros_like(q_bias), v_bias])
    return state
