"""Datasets, samplers and transforms of mmsamrs."""
from .class_names import FAST_CLASSES, HRSC_CLASSES, SIOR_CLASSES, SOTA_CLASSES
from .finetune import iSAID15Dataset, Potsdam5Dataset
from .samplers import ProportionalMultiSourceSampler
from .samrs import FASTDataset, SIORDataset, SOTADataset
from .sources import *  # noqa: F401,F403
from .subset import seeded_subset, subset_indices
from .transforms import *  # noqa: F401,F403

__all__ = [
    'FAST_CLASSES', 'HRSC_CLASSES', 'SIOR_CLASSES', 'SOTA_CLASSES', 'FASTDataset',
    'ProportionalMultiSourceSampler', 'SIORDataset', 'SOTADataset', 'iSAID15Dataset',
    'Potsdam5Dataset', 'seeded_subset', 'subset_indices'
]
