"""Patch splitting of large source images (DOTA, FAIR1M) for SAMRS generation."""
from .splitter import PatchSplitter, SplitRunner, crop_patch, parse_patch_name, patch_name
from .windows import (WindowClipper, check_split, polygon_to_quad, sliding_windows,
                      window_starts)
from .writers import ANNOTATION_WRITERS, AnnotationWriter, DOTAWriter, FAIR1MWriter

__all__ = [
    'ANNOTATION_WRITERS', 'AnnotationWriter', 'DOTAWriter', 'FAIR1MWriter',
    'PatchSplitter', 'SplitRunner', 'WindowClipper', 'check_split', 'crop_patch',
    'parse_patch_name', 'patch_name', 'polygon_to_quad', 'sliding_windows', 'window_starts'
]
