"""mmsamrs: SAMRS (Segment Anything for remote-sensing segmentation) for OpenMMLab.

``compat`` runs first: it fixes known incompatibilities of the pinned stack before
mmcv/mmseg/torchvision are imported by anything else, each only where its problem is
present. It is the one place where importing mmsamrs changes other packages (its docstring
lists each fix, why and when it acts; ``compat.APPLIED`` names those that acted), and none
of them makes ``torch.load`` unpickle more than weights and the types of mmengine's own
checkpoints.
"""
from . import compat

compat.apply_all()

from . import datasets, engine, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat']
