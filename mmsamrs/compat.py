"""Runtime fixes for known incompatibilities of the pinned dependency stack.

Imported by ``mmsamrs/__init__.py`` before anything else. This module is the one place
where importing mmsamrs changes other packages. Each fix first checks that its problem is
really present on this machine and does nothing otherwise; ``apply_all`` returns the names
of the fixes that acted, and :data:`APPLIED` keeps them (``python -c "import mmsamrs;
print(mmsamrs.compat.APPLIED)"`` shows what acted here). None of them weakens
``torch.load``: it keeps ``weights_only=True`` for the whole process.

* ``torchvision_nms``: PyPI's torchvision 0.28.0 wheel links ``libtorch_cuda.so``; on a
  CPU-only torch its ``_C`` extension cannot load and ``import torchvision`` then raises
  ``operator torchvision::nms does not exist`` (which also breaks ``segment_anything`` and
  mmengine's ``Runner``). Acts when torchvision is installed and its compiled ops cannot
  be loaded. The fix defines ``torchvision::nms`` (and the ``qnms`` schema) with a CPU
  kernel through :mod:`torch.library` before torchvision is imported; nothing else changes.
* ``collections_sequence``: mmrotate 1.0.0rc1 does ``from collections import Sequence``,
  removed in Python 3.10. Acts when ``collections.Sequence`` is missing and the installed
  mmrotate still imports it. The fix adds the alias to :class:`collections.abc.Sequence`.
* ``checkpoint_weights_only``: mmengine 0.10.7 calls ``torch.load`` without
  ``weights_only``; torch >= 2.6 defaults it to True, which refuses Runner checkpoints
  (their message hub holds ``HistoryBuffer`` objects and numpy arrays), so ``--resume`` and
  ``load_checkpoint`` fail with ``Weights only load failed``. Acts when torch defaults to
  ``weights_only=True`` and mmengine does not pass it. The fix allow-lists exactly those
  types (:func:`runner_checkpoint_globals`, through ``torch.serialization.add_safe_globals``)
  and leaves ``torch.load`` and its safe default alone: a file that needs anything else,
  such as a crafted ``.pth`` that would run code when unpickled, is still refused.
* ``cpu_distributed``: mmengine 0.10.7 cannot run ``--launcher pytorch`` on a machine
  without CUDA: its launcher calls ``torch.cuda.set_device`` unconditionally, and the
  Runner wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, which torch rejects for
  CPU modules. Acts when CUDA is unavailable and mmengine's launcher selects a CUDA device.
  The fix replaces mmengine's ``_init_dist_pytorch`` (process group with the ``gloo``
  backend, no device selection) and drops ``device_ids`` in
  ``MMDistributedDataParallel.__init__``, so ``torchrun`` works with CPU processes; a
  machine with CUDA keeps mmengine's own code.
"""
from __future__ import annotations

import collections
import collections.abc
import glob
import importlib.util
import inspect
import os
import pickle
from typing import Callable, List

import numpy as np
import torch

APPLIED: List[str] = []


def torchvision_ops_unloadable() -> bool:
    """Return True when torchvision is installed but its compiled ops cannot be loaded."""
    spec = importlib.util.find_spec('torchvision')
    if spec is None or spec.origin is None or hasattr(torch.ops.torchvision, 'nms'):
        return False
    libs = glob.glob(os.path.join(os.path.dirname(spec.origin), '_C*.so'))
    if not libs:
        return True
    try:
        torch.ops.load_library(libs[0])
    except (OSError, RuntimeError):
        return True
    return False


def nms_cpu(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression, the semantics of ``torchvision.ops.nms``.

    Returns the indices of the kept boxes (``int64``) sorted by decreasing score.
    """
    if dets.numel() == 0:
        return torch.empty((0, ), dtype=torch.long, device=dets.device)
    x1, y1, x2, y2 = dets.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    order = scores.argsort(descending=True)
    suppressed = torch.zeros(dets.shape[0], dtype=torch.bool, device=dets.device)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        w = (torch.minimum(x2[i], x2) - torch.maximum(x1[i], x1)).clamp(min=0)
        h = (torch.minimum(y2[i], y2) - torch.maximum(y1[i], y1)).clamp(min=0)
        inter = w * h
        iou = inter / (areas[i] + areas - inter)
        suppressed |= iou > iou_threshold
    return torch.tensor(keep, dtype=torch.long, device=dets.device)


_TORCHVISION_LIBS: list = []


def fix_torchvision_nms() -> bool:
    """Define ``torchvision::nms`` with a CPU kernel when torchvision's ops cannot load."""
    if not torchvision_ops_unloadable():
        return False
    lib = torch.library.Library('torchvision', 'DEF')
    lib.define('nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
    lib.define('qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
    lib.impl('nms', nms_cpu, 'CPU')
    _TORCHVISION_LIBS.append(lib)
    return True


def mmrotate_needs_collections_sequence() -> bool:
    """Return True when ``collections.Sequence`` is gone but mmrotate still imports it."""
    if hasattr(collections, 'Sequence'):
        return False
    spec = importlib.util.find_spec('mmrotate')
    if spec is None or spec.origin is None:
        return False
    path = os.path.join(
        os.path.dirname(spec.origin), 'models', 'detectors', 'refine_single_stage.py')
    if not os.path.exists(path):
        return False
    with open(path, encoding='utf-8') as f:
        return 'from collections import Sequence' in f.read()


def fix_collections_sequence() -> bool:
    """Alias ``collections.Sequence`` to ``collections.abc.Sequence`` for mmrotate."""
    if not mmrotate_needs_collections_sequence():
        return False
    collections.Sequence = collections.abc.Sequence  # type: ignore[attr-defined]
    return True


def torch_load_defaults_to_weights_only() -> bool:
    """Return True when ``torch.load`` defaults to ``weights_only=True`` (torch >= 2.6)."""
    default = inspect.signature(torch.load).parameters['weights_only'].default
    if default is None:
        major, minor = (int(v) for v in torch.__version__.split('.')[:2])
        return (major, minor) >= (2, 6)
    return bool(default)


def mmengine_loads_without_weights_only() -> bool:
    """Return True when mmengine's local checkpoint loader does not pass ``weights_only``."""
    from mmengine.runner import checkpoint
    return 'weights_only' not in inspect.getsource(checkpoint.load_from_local)


def history_buffer_method(owner: type, name: str) -> Callable:
    """``getattr`` as a Runner checkpoint uses it: a statistics method of ``HistoryBuffer``.

    mmengine pickles the ``min``/``max``/``current``/``mean`` (and registered) statistics
    methods of ``HistoryBuffer`` as ``getattr(HistoryBuffer, name)``. A general ``getattr``
    would let a crafted file reach any attribute of an allowed object (and from there run
    code), so anything else is refused.
    """
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); only the statistics methods '
        f'{sorted(allowed)} of HistoryBuffer are allowed')


def runner_checkpoint_globals() -> list:
    """What mmengine Runner checkpoints hold besides tensors and plain containers.

    ``HistoryBuffer`` (the message hub's logged scalars), its statistics methods (through
    :func:`history_buffer_method`, registered under the name ``builtins.getattr``), and
    numpy arrays, dtypes and scalars (the buffers' histories, ``runtime_info``), and
    ``bytes`` (``torch.save``'s pickle protocol 2 writes an empty buffer such as the data of
    an empty history as ``bytes()``). Building any of these runs no code from the file.
    """
    from mmengine.logging import HistoryBuffer
    reconstruct = np.zeros(1).__reduce__()[0]  # numpy's array rebuild, numpy 1.x and 2.x
    scalar = np.float64(0).__reduce__()[0]  # numpy's scalar rebuild
    dtypes = {type(np.dtype(code)) for code in np.typecodes['All']}
    return [HistoryBuffer, (history_buffer_method, 'builtins.getattr'), reconstruct, scalar,
            bytes, np.ndarray, np.dtype, *sorted(dtypes, key=lambda t: t.__name__)]


def fix_checkpoint_weights_only() -> bool:
    """Allow-list the types of Runner checkpoints for ``torch.load(weights_only=True)``."""
    if not (torch_load_defaults_to_weights_only() and mmengine_loads_without_weights_only()):
        return False
    torch.serialization.add_safe_globals(runner_checkpoint_globals())
    return True


def mmengine_distributed_needs_cuda() -> bool:
    """Return True when CUDA is unavailable but mmengine's launcher sets a CUDA device."""
    if torch.cuda.is_available():
        return False
    from mmengine.dist import utils
    return 'torch.cuda.set_device' in inspect.getsource(utils._init_dist_pytorch)


def init_dist_pytorch_cpu(backend: str = 'gloo', init_backend: str = 'torch',
                          **kwargs) -> None:
    """Initialise a ``torchrun`` process group on CPU (``gloo``; no CUDA device)."""
    if init_backend != 'torch':
        raise ValueError(f'init_backend={init_backend!r} needs CUDA; only torch works on CPU')
    if backend != 'gloo':
        from mmengine.logging import print_log
        print_log(f'no CUDA device: using the gloo backend instead of {backend}',
                  logger='current', level=30)
    torch.distributed.init_process_group(backend='gloo', **kwargs)


def fix_cpu_distributed() -> bool:
    """Make mmengine's pytorch launcher and DDP wrapper work without CUDA."""
    if not mmengine_distributed_needs_cuda():
        return False
    from mmengine.dist import utils
    from mmengine.model import MMDistributedDataParallel
    utils._init_dist_pytorch = init_dist_pytorch_cpu
    ddp_init = MMDistributedDataParallel.__init__

    def init_without_device_ids(self, module, detect_anomalous_params: bool = False,
                                **kwargs) -> None:
        kwargs.pop('device_ids', None)
        ddp_init(self, module, detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = init_without_device_ids
    return True


FIXES: dict = {
    'torchvision_nms': fix_torchvision_nms,
    'collections_sequence': fix_collections_sequence,
    'checkpoint_weights_only': fix_checkpoint_weights_only,
    'cpu_distributed': fix_cpu_distributed,
}


def apply_all(fixes: dict | None = None) -> List[str]:
    """Apply every fix whose problem is present; return the names of those that acted."""
    acted = []
    for name, fix in (fixes or FIXES).items():
        fix_fn: Callable[[], bool] = fix
        if name not in APPLIED and fix_fn():
            APPLIED.append(name)
            acted.append(name)
    return acted
