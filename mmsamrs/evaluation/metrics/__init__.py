"""Metrics of mmsamrs."""
from .class_scores import ClassScoreMetric
from .instance_iou import InstanceIoUMetric
from .multi_set_iou import MultiSetIoUMetric
from .seg_iou import SegIoUMetric, class_fscore

__all__ = [
    'ClassScoreMetric', 'InstanceIoUMetric', 'MultiSetIoUMetric', 'SegIoUMetric', 'class_fscore'
]
