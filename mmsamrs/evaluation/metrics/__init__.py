"""Metrics of mmsamrs."""
from .multi_set_iou import MultiSetIoUMetric

__all__ = ['MultiSetIoUMetric']
