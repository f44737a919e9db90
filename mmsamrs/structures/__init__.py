"""Box geometry used by readers, the splitter and the prompt transform."""
from .boxes import (clip_hboxes, hbox_areas, quad_to_hbox, quad_to_rbox, rasterize_quads,
                    rbox_to_quad, rbox_to_rhbox)

__all__ = [
    'clip_hboxes', 'hbox_areas', 'quad_to_hbox', 'quad_to_rbox', 'rasterize_quads',
    'rbox_to_quad', 'rbox_to_rhbox'
]
