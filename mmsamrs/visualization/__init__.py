"""Visualisation of SAMRS labels: overlays, instance outlines, Figure 4-style sample grids.

``tools/visualize.py`` is the CLI; :class:`SAMRSVisualizer` is the registered
visualizer (``visualizer=dict(type='SAMRSVisualizer')``) for mmseg's hooks.
"""
from .figures import GridRow, legend_handles, sample_grid_figure, save_sample_grid
from .overlay import (annotation_mask, blend_labels, colour_table, draw_outlines,
                      label_box_position, mask_outline, outline_thickness, present_labels)
from .samples import draw_set_row, pick_stems, read_rgb
from .visualizer import SAMRSVisualizer

__all__ = [
    'GridRow', 'SAMRSVisualizer', 'annotation_mask', 'blend_labels', 'colour_table',
    'draw_outlines', 'draw_set_row', 'label_box_position', 'legend_handles', 'mask_outline',
    'outline_thickness', 'pick_stems', 'present_labels', 'read_rgb', 'sample_grid_figure',
    'save_sample_grid'
]
