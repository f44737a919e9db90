"""Output side of SAMRS label generation (no SAM here): RLE, painting, quality, progress.

:class:`SAMRSLabelWriter` turns per-image SAM results (mask crops) into label PNGs and a
COCO JSON; the Runner hook and the CLI build on it.
"""
from .crops import Crop, clip_crop
from .fingerprint import state_dict_fingerprint
from .geo_writer import GeoSceneWriter
from .label_writer import SAMRSLabelWriter, failure_message, format_summary
from .painting import OVERLAP_POLICIES, paint_labels, paint_order
from .progress import GenerationProgress
from .quality import FLAG_NAMES, QualityControl, QualityMeasures
from .rle import crop_run_counts, encode_crop

__all__ = [
    'GeoSceneWriter', 'Crop', 'OVERLAP_POLICIES', 'SAMRSLabelWriter', 'clip_crop',
    'crop_run_counts', 'encode_crop', 'failure_message', 'format_summary', 'paint_labels',
    'paint_order', 'FLAG_NAMES', 'QualityControl', 'QualityMeasures', 'GenerationProgress',
    'state_dict_fingerprint'
]
