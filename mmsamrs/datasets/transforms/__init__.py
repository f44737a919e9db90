"""Data transforms of mmsamrs (image loading for generation, SAM prompts)."""
from .augmentations import RandomGamma, RandomRotate90
from .formatting import PackSAMInputs
from .instance_masks import LoadInstanceMasks
from .loading import LoadImageOrRecordError
from .prompts import PROMPT_NAMES, SAMPrompts, parse_prompt_setting

__all__ = [
    'LoadImageOrRecordError', 'PackSAMInputs', 'PROMPT_NAMES', 'SAMPrompts',
    'parse_prompt_setting', 'RandomGamma', 'RandomRotate90', 'LoadInstanceMasks'
]
