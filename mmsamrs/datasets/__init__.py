"""Datasets, samplers and transforms of mmsamrs."""
from .class_names import FAST_CLASSES, HRSC_CLASSES, SIOR_CLASSES, SOTA_CLASSES
from .isaid import iSAID15Dataset
from .potsdam import Potsdam5Dataset
from .samplers import ProportionalMultiSourceSampler
from .samrs import FASTDataset, SAMRSDataset, SIORDataset, SOTADataset
from .samrs_sets import SAMRSMultiSetDataset
from .sources import *  # noqa: F401,F403
from .subset import seeded_subset, subset_indices
from .transforms import *  # noqa: F401,F403

__all__ = [
    'FAST_CLASSES', 'HRSC_CLASSES', 'SIOR_CLASSES', 'SOTA_CLASSES', 'FASTDataset',
    'ProportionalMultiSourceSampler', 'SAMRSDataset', 'SAMRSMultiSetDataset', 'SIORDataset',
    'SOTADataset', 'iSAID15Dataset',
    'Potsdam5Dataset', 'seeded_subset', 'subset_indices'
]
