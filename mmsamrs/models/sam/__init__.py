"""Segment Anything as an mmengine model: SAM, HQ-SAM and SAM 2.1 backends, builder,
weights, input frames, precision, efficient attention, data preprocessor,
post-processing."""
from .backends import (BACKENDS, HQSAMBackend, SAM2Backend, SAMBackend,
                       build_backend)
from .data_preprocessor import SAMDataPreprocessor
from .efficient_attention import use_efficient_attention
from .frames import InputFrame, LongestSideFrame, SquareFrame, build_frame
from .postprocess import postprocess_masks_cropped, resize_masks_cropped
from .precision import resolve_precision
from .sam_model import (SAM_ARCHS, SAM_CHECKPOINTS, SAMGenerator, build_sam,
                        encoder_sizes)
from .weights import load_sam_weights

__all__ = [
    'BACKENDS', 'HQSAMBackend', 'InputFrame', 'LongestSideFrame', 'SAM2Backend',
    'SAMBackend', 'SAMDataPreprocessor', 'SAMGenerator', 'SAM_ARCHS', 'SAM_CHECKPOINTS',
    'SquareFrame', 'build_backend', 'build_frame', 'build_sam', 'encoder_sizes',
    'load_sam_weights', 'postprocess_masks_cropped', 'resize_masks_cropped',
    'resolve_precision', 'use_efficient_attention'
]
