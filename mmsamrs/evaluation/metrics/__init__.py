"""Metrics of mmsamrs."""
from .class_scores import ClassScoreMetric
from .instance_iou import InstanceIoUMetric
from .multi_set_iou import MultiSetIoUMetric

__all__ = ['ClassScoreMetric', 'InstanceIoUMetric', 'MultiSetIoUMetric']
