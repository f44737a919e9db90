"""Detection-source readers (DOTA, DIOR, FAIR1M, HRSC2016) as registered datasets."""
from .base import AnnotationError, Problem, SourceDataset, SourceReport
from .dior import DIORDataset
from .dota import DOTADataset
from .fair1m import FAIR1MDataset
from .hrsc import HRSCDataset, load_hrsc_instance_masks
from .isaid import ISAID_CLASSES, ISAIDInstanceDataset, code_crops, read_rgb_codes, rgb_codes

__all__ = [
    'AnnotationError', 'DIORDataset', 'DOTADataset', 'FAIR1MDataset', 'HRSCDataset',
    'Problem', 'SourceDataset', 'SourceReport', 'load_hrsc_instance_masks',
    'ISAID_CLASSES', 'ISAIDInstanceDataset', 'code_crops', 'read_rgb_codes', 'rgb_codes'
]
