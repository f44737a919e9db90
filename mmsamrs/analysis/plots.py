"""Figures of the set statistics (paper Figures 5 and 6) with matplotlib's Agg canvas.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas (no pyplot, no
global backend state, no display needed) and saved at a fixed size: ``figsize * dpi``
pixels.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .statistics import (INSTANCES_FROM_JSON, NUM_SIZE_BINS, SMALL_MASK, SetStatistics,
                         size_bin_label)

DPI = 100
CLASS_FIGSIZE: Tuple[float, float] = (12.0, 7.0)
SIZE_FIGSIZE: Tuple[float, float] = (9.0, 4.5)
BAR_COLOUR, SMALL_COLOUR = '#4472c4', '#c0504d'


def new_figure(figsize: Tuple[float, float], dpi: int = DPI) -> Figure:
    """A figure drawn on an Agg canvas."""
    figure = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: str) -> None:
    """Save ``figure`` as a PNG of exactly ``figsize * dpi`` pixels."""
    figure.savefig(path, format='png', dpi=figure.dpi)


def plot_class_histograms(stats: SetStatistics, path: str) -> None:
    """Figure 5 for one set: pixels (top) and instances (bottom) per class."""
    figure = new_figure(CLASS_FIGSIZE)
    axes = figure.subplots(2, 1, sharex=True)
    positions = np.arange(len(stats.classes))
    for ax, values, what in ((axes[0], stats.pixels, 'pixels'),
                             (axes[1], stats.instances, 'instances')):
        ax.bar(positions, values, color=BAR_COLOUR)
        ax.set_ylabel(f'number of {what}')
        ax.ticklabel_format(axis='y', style='sci', scilimits=(0, 3))
        ax.grid(axis='y', alpha=0.3)
    axes[1].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_title(f'{stats.name}: pixels and instances per class')
    axes[1].set_xticks(positions)
    axes[1].set_xticklabels(stats.classes, rotation=90, fontsize=8)
    axes[1].set_xlim(-0.6, len(stats.classes) - 0.4)
    if stats.instance_source != INSTANCES_FROM_JSON:
        axes[1].set_title(f'instances approximated by {stats.instance_source}', fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)


def plot_mask_sizes(stats: SetStatistics, path: str) -> None:
    """Figure 6 for one set: instances per mask-size bin (log-spaced), ``<100`` highlighted."""
    figure = new_figure(SIZE_FIGSIZE)
    ax = figure.subplots()
    positions = np.arange(NUM_SIZE_BINS)
    colours = [SMALL_COLOUR] + [BAR_COLOUR] * (NUM_SIZE_BINS - 1)
    ax.bar(positions, stats.size_hist, color=colours, width=0.85)
    ax.set_xticks(positions)
    ax.set_xticklabels([size_bin_label(i) for i in positions], rotation=60, fontsize=8)
    ax.set_xlabel('mask size (pixels)')
    ax.set_ylabel('number of instances')
    ax.grid(axis='y', alpha=0.3)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    total = int(stats.size_hist.sum())
    small = int(stats.size_hist[0])
    share = f'{100 * small / total:.1f}%' if total else '-'
    ax.set_title(f'{stats.name}: mask sizes ({total:,} instances, '
                 f'{small:,} = {share} under {SMALL_MASK} pixels)', fontsize=10)
    figure.tight_layout()
    save_figure(figure, path)
