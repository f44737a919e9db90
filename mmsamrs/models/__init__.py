"""Models of mmsamrs."""
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .sam import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .sep_checkpoint import (export_sep_checkpoint, export_sep_file,  # noqa: F401
                             is_classifier_key)
