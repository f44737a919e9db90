"""Figure 4-style grids: rows of label overlays per set, each row with its class legend."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence, Set, Tuple

import numpy as np
from matplotlib.patches import Patch

from mmsamrs.analysis.plots import new_figure, save_figure

LEGEND_WIDTH = 0.8  # legend column width, in panels
ROW_LABEL_INCHES = 0.3


@dataclass
class GridRow:
    """One set's row of a sample grid.

    Attributes:
        name: set name, written beside the row.
        classes: the set's class names.
        palette: RGB colour per class.
        panels: drawn ``(H, W, 3)`` RGB overlays.
        titles: one title per panel (e.g. the image stem).
        present: class indices shown in the row (listed in its legend).
    """

    name: str
    classes: Sequence[str]
    palette: Sequence[Sequence[int]]
    panels: List[np.ndarray] = field(default_factory=list)
    titles: List[str] = field(default_factory=list)
    present: Set[int] = field(default_factory=set)


def legend_handles(classes: Sequence[str], palette: Sequence[Sequence[int]],
                   indices: Sequence[int]) -> List[Patch]:
    """Legend patches ``'<index> <name>'`` in the class colours, for ``indices``."""
    return [Patch(facecolor=np.asarray(palette[i]) / 255, edgecolor='black', linewidth=0.5,
                  label=f'{i} {classes[i]}') for i in sorted(indices)]


def grid_size(rows: Sequence[GridRow], panel_inches: float, dpi: int) -> Tuple[int, int]:
    """``(width, height)`` in pixels of :func:`save_sample_grid`'s figure."""
    cols = max(len(r.panels) for r in rows)
    width = (cols + LEGEND_WIDTH) * panel_inches + ROW_LABEL_INCHES
    return round(width * dpi), round(len(rows) * panel_inches * dpi)


def save_sample_grid(rows: Sequence[GridRow], path: str, panel_inches: float = 4.0,
                     dpi: int = 100) -> Tuple[int, int]:
    """Save overlays as a grid (one row per set, legend at the right); return its size.

    The PNG is exactly :func:`grid_size` pixels.
    """
    if not rows or not any(r.panels for r in rows):
        raise ValueError('nothing to draw: no panels')
    width, height = grid_size(rows, panel_inches, dpi)
    cols = max(len(r.panels) for r in rows)
    figure = new_figure((width / dpi, height / dpi), dpi)
    spec = figure.add_gridspec(
        len(rows), cols + 1, width_ratios=[1] * cols + [LEGEND_WIDTH],
        left=ROW_LABEL_INCHES * dpi / width, right=1, top=1 - 0.25 / (len(rows) * panel_inches),
        bottom=0.01, wspace=0.04, hspace=0.12)
    for r, row in enumerate(rows):
        for c in range(cols):
            ax = figure.add_subplot(spec[r, c])
            ax.axis('off')
            if c < len(row.panels):
                ax.imshow(row.panels[c])
                ax.set_title(row.titles[c], fontsize=7)
            if c == 0:
                ax.text(-0.03, 0.5, row.name, transform=ax.transAxes, rotation=90,
                        ha='right', va='center', fontsize=11, fontweight='bold')
        legend_ax = figure.add_subplot(spec[r, cols])
        legend_ax.axis('off')
        handles = legend_handles(row.classes, row.palette, sorted(row.present))
        if handles:
            legend_ax.legend(handles=handles, loc='center left', fontsize=7, frameon=False,
                             ncol=1 if len(handles) <= 18 else 2, title=row.name,
                             title_fontsize=8, borderaxespad=0)
    save_figure(figure, path)
    return width, height
