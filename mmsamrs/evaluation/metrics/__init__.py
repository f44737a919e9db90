"""Metrics of mmsamrs."""
from .instance_iou import InstanceIoUMetric
from .multi_set_iou import MultiSetIoUMetric

__all__ = ['InstanceIoUMetric', 'MultiSetIoUMetric']
