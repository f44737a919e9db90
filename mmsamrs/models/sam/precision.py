"""Compute precision of SAM (``model.precision``): the autocast dtypes and ``'auto'``.

``'auto'`` (the default) picks bf16 where the device computes it natively, fp32 elsewhere:

* CUDA: bf16 when ``torch.cuda.is_bf16_supported(including_emulation=False)`` (Ampere
  and newer);
* CPU: bf16 when torch reports AVX512-BF16 or AMX tiles (``torch.cpu``'s capability
  queries), where the image encoder runs 2-3x faster than in fp32 (measured on ViT-B);
* any other device, or a torch without these queries: fp32.

Post-processing of the masks is always float32, whatever the precision.
"""
from typing import Callable, Optional, Tuple

import torch

#: Autocast dtype of each ``precision`` (fp32: no autocast).
PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}
#: Every accepted ``precision`` value.
PRECISION_CHOICES = ('auto', *PRECISIONS)


def _cpu_query(name: str) -> Optional[Callable[[], bool]]:
    """One of ``torch.cpu``'s private capability queries, or None if this torch lacks it."""
    return getattr(torch.cpu, name, None)


def native_bf16(device: torch.device) -> Tuple[bool, str]:
    """Whether ``device`` computes bf16 natively, and what was checked (for the log)."""
    if device.type == 'cuda':
        supported = torch.cuda.is_bf16_supported(including_emulation=False)
        return supported, f'CUDA device {"with" if supported else "without"} native bf16'
    if device.type == 'cpu':
        found = [label for label, query in (('AVX512-BF16', '_is_avx512_bf16_supported'),
                                            ('AMX', '_is_amx_tile_supported'))
                 if (fn := _cpu_query(query)) is not None and fn()]
        if found:
            return True, f'CPU with {" and ".join(found)}'
        return False, 'CPU without AVX512-BF16 or AMX'
    return False, f'{device.type} device (no native bf16 check for it)'


def resolve_precision(precision: str, device: torch.device) -> Tuple[str, str]:
    """The precision (a key of :data:`PRECISIONS`) to run on ``device``, and why.

    Raises:
        ValueError: ``precision`` is not one of :data:`PRECISION_CHOICES`.
    """
    if precision not in PRECISION_CHOICES:
        raise ValueError(f'precision must be one of {PRECISION_CHOICES}, got {precision!r}')
    if precision != 'auto':
        return precision, 'set in the config'
    supported, reason = native_bf16(torch.device(device))
    return ('bf16' if supported else 'fp32'), f"'auto': {reason}"
