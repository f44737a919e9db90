"""Segment Anything as an mmengine model: builder, data preprocessor, post-processing."""
from .data_preprocessor import SAMDataPreprocessor
from .postprocess import postprocess_masks_cropped
from .sam_model import SAM_ARCHS, SAMGenerator, build_sam

__all__ = [
    'SAMDataPreprocessor', 'SAMGenerator', 'SAM_ARCHS', 'build_sam',
    'postprocess_masks_cropped'
]
