"""Data transforms of mmsamrs (image loading for generation, SAM prompts, checked
semantic labels)."""
from .augmentations import RandomGamma, RandomRescale, RandomRotate90
from .formatting import PackSAMInputs
from .geo_window import LoadGeoTIFFWindow, read_window
from .instance_masks import LoadInstanceMasks
from .loading import LoadImageOrRecordError
from .prompts import PROMPT_NAMES, SAMPrompts, parse_prompt_setting
from .seg_labels import LoadCheckedAnnotations

__all__ = [
    'LoadImageOrRecordError', 'PackSAMInputs', 'PROMPT_NAMES', 'SAMPrompts',
    'parse_prompt_setting', 'RandomGamma', 'RandomRescale', 'RandomRotate90', 'LoadInstanceMasks',
    'LoadCheckedAnnotations', 'LoadGeoTIFFWindow', 'read_window'
]
