"""Output side of SAMRS label generation (no SAM here): RLE, painting, atomic writing.

:class:`SAMRSLabelWriter` turns per-image SAM results (mask crops) into label PNGs and a
COCO JSON; the Runner hook and the CLI build on it.
"""
from .atomic import atomic_open, atomic_write_bytes, remove_stale_temp_files
from .crops import Crop, clip_crop
from .label_writer import SAMRSLabelWriter, format_summary
from .painting import IGNORE_INDEX, OVERLAP_POLICIES, paint_labels, paint_order
from .quality import FLAG_NAMES, QualityControl, QualityMeasures
from .rle import crop_run_counts, encode_crop

__all__ = [
    'Crop', 'IGNORE_INDEX', 'OVERLAP_POLICIES', 'SAMRSLabelWriter', 'atomic_open',
    'atomic_write_bytes', 'clip_crop', 'crop_run_counts', 'encode_crop',
    'format_summary', 'paint_labels', 'paint_order', 'remove_stale_temp_files',
    'FLAG_NAMES', 'QualityControl', 'QualityMeasures'
]
