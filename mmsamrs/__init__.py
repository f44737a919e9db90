"""mmsamrs: SAMRS (Segment Anything for remote-sensing segmentation) for OpenMMLab.

``compat`` runs first: it fixes known incompatibilities of the pinned stack (see its
docstring) before mmcv/mmseg/torchvision are imported by anything else.
"""
from . import compat

compat.apply_all()

from . import datasets, engine, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat']
