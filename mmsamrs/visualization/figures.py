"""Figure 4-style grids: rows of label overlays per set, each row with its class legend."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence, Set, Tuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image

from mmsamrs.analysis.plots import new_figure, save_figure

#: Sizes of the sample grid: gap between panels and around the figure (inches), font
#: sizes (points) of the panel titles, row names and legends.
GAP_INCHES = 0.08
TITLE_POINTS = 7
ROW_NAME_POINTS = 11
LEGEND_POINTS = 7


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


def sample_grid_figure(rows: Sequence[GridRow], panel_inches: float = 4.0,
                       dpi: int = 100) -> Figure:
    """Overlays as a grid: one row per set (its name at the left, its legend at the right),
    one ``panel_inches``-wide panel per image titled with its stem.

    The layout is measured, not guessed: a row is as tall as its widest-aspect image
    (plus its titles), the legend column as wide as the widest legend (a legend takes
    more columns until it fits its row's height), and every gap is ``GAP_INCHES``, so
    no text is clipped and no margin is wider than a gap.
    """
    if not rows or not any(r.panels for r in rows):
        raise ValueError('nothing to draw: no panels')
    cols = max(len(r.panels) for r in rows)
    title_h = TITLE_POINTS * 1.6 / 72
    name_w = ROW_NAME_POINTS * 1.5 / 72
    heights = [panel_inches * max((p.shape[0] / p.shape[1] for p in r.panels), default=1.0)
               for r in rows]
    figure = new_figure((1.0, 1.0), dpi)
    renderer = figure.canvas.get_renderer()
    legends = []
    for row, height in zip(rows, heights):
        handles = legend_handles(row.classes, row.palette, sorted(row.present))
        legend, ncols = None, 0
        while handles and ncols < len(handles):
            if legend is not None:
                legend.remove()
            ncols += 1
            legend = figure.legend(handles=handles, loc='upper left', fontsize=LEGEND_POINTS,
                                   frameon=False, ncols=ncols, title=row.name,
                                   title_fontsize=LEGEND_POINTS + 1, borderaxespad=0,
                                   borderpad=0)
            extent = legend.get_window_extent(renderer)
            if extent.height / dpi <= title_h + height:
                break
        legends.append((legend, legend.get_window_extent(renderer).width / dpi
                        if legend is not None else 0.0))
    legend_w = max(w for _, w in legends)
    width = GAP_INCHES * (cols + 2) + name_w + cols * panel_inches + legend_w \
        + (GAP_INCHES if legend_w else 0)
    height = GAP_INCHES * (len(rows) + 1) + sum(title_h + h for h in heights)
    figure.set_size_inches(width, height)
    top = height - GAP_INCHES
    for row, row_h, (legend, _) in zip(rows, heights, legends):
        top -= title_h
        for c in range(cols):
            left = GAP_INCHES + name_w + c * (panel_inches + GAP_INCHES)
            ax = figure.add_axes((left / width, (top - row_h) / height, panel_inches / width,
                                  row_h / height))
            ax.axis('off')
            if c < len(row.panels):
                ax.imshow(row.panels[c])
                ax.set_title(row.titles[c], fontsize=TITLE_POINTS, pad=2)
        figure.text(GAP_INCHES / width, (top - row_h / 2) / height, row.name, rotation=90,
                    ha='left', va='center', fontsize=ROW_NAME_POINTS, fontweight='bold')
        if legend is not None:
            legend_left = width - GAP_INCHES - legend_w
            legend.set_bbox_to_anchor((legend_left / width, (top + title_h) / height),
                                      transform=figure.transFigure)
        top -= row_h + GAP_INCHES
    return figure


def save_sample_grid(rows: Sequence[GridRow], path: str, panel_inches: float = 4.0,
                     dpi: int = 100) -> Tuple[int, int]:
    """Save :func:`sample_grid_figure` as a PNG; return its ``(width, height)`` in pixels."""
    figure = sample_grid_figure(rows, panel_inches, dpi)
    save_figure(figure, path)
    with Image.open(path) as image:
        return image.size
