"""CSV, Markdown and PNG reports of :class:`~mmsamrs.analysis.statistics.SetStatistics`.

``write_reports(stats, out_dir)`` writes:

* ``table2.csv``: one row per set: the paper's Table 2 columns (images, categories,
  channels, image size, instances) and how instances were counted;
* ``classes.csv``: pixels and instances per class of each set (Figure 5);
* ``mask_sizes.csv``: instances per mask-size bin of each set (Figure 6);
* ``statistics.md``: all of it as Markdown tables, with the figures;
* ``<set>_classes.png`` and ``<set>_mask_sizes.png`` (:mod:`mmsamrs.analysis.plots`).
"""
from __future__ import annotations

import csv
import math
import os
import re
from typing import Any, Dict, List, Sequence

from .plots import plot_class_histograms, plot_mask_sizes
from .statistics import (INSTANCES_FROM_JSON, NUM_SIZE_BINS, SIZE_BIN_EDGES, SetStatistics,
                         size_bin_label)

TABLE2_HEADERS = ('Set', '#Images', '#Category', '#Channels', 'Image size (H × W)', 'Instances')


def file_stem(name: str) -> str:
    """A set name made safe for file names."""
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name)


def channels_text(channels: Dict[str, int]) -> str:
    """Channel layouts (PIL modes) of a set: ``'RGB'``, or ``'RGB (9), L (1)'`` if mixed."""
    if not channels:
        return '-'
    if len(channels) == 1:
        return next(iter(channels))
    return ', '.join(f'{mode} ({n:,})'
                     for mode, n in sorted(channels.items(), key=lambda kv: (-kv[1], kv[0])))


def image_size_text(sizes: Dict[Any, int]) -> str:
    """``'1,024 × 1,024'``, or ``'smallest ~ largest'`` (by area) when sizes differ."""
    if not sizes:
        return '-'
    ordered = sorted(sizes, key=lambda hw: (hw[0] * hw[1], hw))
    text = [f'{h:,} × {w:,}' for h, w in (ordered[0], ordered[-1])]
    return text[0] if len(ordered) == 1 else f'{text[0]} ~ {text[1]} ({len(ordered)} sizes)'


def table2_row(stats: SetStatistics) -> Dict[str, Any]:
    """The Table 2 row of a set, plus how its instances were counted."""
    return {
        'set': stats.name,
        'images': stats.images,
        'categories': len(stats.classes),
        'channels': channels_text(stats.channels),
        'image_size': image_size_text(stats.image_sizes),
        'instances': stats.total_instances,
        'instance_source': stats.instance_source,
        'empty_masks': stats.empty_masks,
        'labelled_pixels': int(stats.pixels.sum()),
        'unlabelled_pixels': stats.unlabelled_pixels,
        'invalid_pixels': stats.invalid_pixels,
    }


def class_rows(stats: SetStatistics) -> List[Dict[str, Any]]:
    """Pixels and instances per class of a set."""
    return [{'set': stats.name, 'label_index': i, 'class': name,
             'pixels': int(stats.pixels[i]), 'instances': int(stats.instances[i])}
            for i, name in enumerate(stats.classes)]


def size_rows(stats: SetStatistics) -> List[Dict[str, Any]]:
    """Instances per mask-size bin of a set (``bin_high`` empty for the open last bin)."""
    return [{'set': stats.name, 'bin': size_bin_label(i), 'bin_low': int(SIZE_BIN_EDGES[i]),
             'bin_high': '' if math.isinf(SIZE_BIN_EDGES[i + 1]) else int(SIZE_BIN_EDGES[i + 1]),
             'instances': int(stats.size_hist[i])} for i in range(NUM_SIZE_BINS)]


def write_csv(path: str, rows: Sequence[Dict[str, Any]]) -> None:
    """Write ``rows`` (dicts with the same keys) as a CSV file with a header."""
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; numbers right-aligned with thousands separators."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return '-' if math.isnan(value) else f'{value:,.2f}'
        return f'{value:,}' if isinstance(value, int) else str(value)

    align = ['---:' if isinstance(v, (int, float)) else '---' for v in rows[0]]
    lines = ['| ' + ' | '.join(headers) + ' |', '| ' + ' | '.join(align) + ' |']
    lines += ['| ' + ' | '.join(cell(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)


def table2_markdown(stats_list: Sequence[SetStatistics]) -> str:
    """The paper's Table 2 rows of the sets as a Markdown table."""
    rows = [[r['set'], r['images'], r['categories'], r['channels'], r['image_size'],
             r['instances']] for r in map(table2_row, stats_list)]
    return markdown_table(TABLE2_HEADERS, rows)


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else math.nan


def set_markdown(stats: SetStatistics) -> str:
    """Markdown section of one set: figures, per-class table, mask-size table, notes."""
    stem = file_stem(stats.name)
    labelled = int(stats.pixels.sum())
    total_pixels = labelled + stats.unlabelled_pixels + stats.invalid_pixels
    instances = stats.total_instances
    counted = ('from `instances.json` (masks with at least one pixel, at full mask size)'
               if stats.instance_source == INSTANCES_FROM_JSON else
               'approximated by the connected components (8-connectivity) of each class in '
               'the label PNGs')
    notes = [
        f'- Instances {counted}.',
        f'- Labelled pixels: {labelled:,} of {total_pixels:,} '
        f'({_percent(labelled, total_pixels):.2f}%); value 255 (no mask): '
        f'{stats.unlabelled_pixels:,}.',
    ]
    if stats.empty_masks:
        notes.append(f'- Annotations with an empty mask (not counted): {stats.empty_masks:,}.')
    if stats.invalid_pixels:
        notes.append(f'- **Pixels with a value that is no class and not 255: '
                     f'{stats.invalid_pixels:,}** (wrong class tuple?).')
    class_table = markdown_table(
        ('Index', 'Class', 'Pixels', 'Pixels %', 'Instances', 'Instances %'),
        [[r['label_index'], r['class'], r['pixels'], _percent(r['pixels'], labelled),
          r['instances'], _percent(r['instances'], instances)] for r in class_rows(stats)])
    size_table = markdown_table(
        ('Mask size (pixels)', 'Instances', '%'),
        [[r['bin'], r['instances'], _percent(r['instances'], instances)]
         for r in size_rows(stats)])
    return '\n\n'.join([
        f'## {stats.name}', '\n'.join(notes),
        f'![{stats.name} classes]({stem}_classes.png)\n\n'
        f'![{stats.name} mask sizes]({stem}_mask_sizes.png)',
        class_table, size_table])


def write_reports(stats_list: Sequence[SetStatistics], out_dir: str) -> List[str]:
    """Write the CSVs, the Markdown file and the figures of the sets; return their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {name: os.path.join(out_dir, name)
             for name in ('table2.csv', 'classes.csv', 'mask_sizes.csv', 'statistics.md')}
    write_csv(paths['table2.csv'], [table2_row(s) for s in stats_list])
    write_csv(paths['classes.csv'], [row for s in stats_list for row in class_rows(s)])
    write_csv(paths['mask_sizes.csv'], [row for s in stats_list for row in size_rows(s)])
    figures = []
    for stats in stats_list:
        stem = os.path.join(out_dir, file_stem(stats.name))
        plot_class_histograms(stats, f'{stem}_classes.png')
        plot_mask_sizes(stats, f'{stem}_mask_sizes.png')
        figures += [f'{stem}_classes.png', f'{stem}_mask_sizes.png']
    text = '\n\n'.join(['# SAMRS set statistics', table2_markdown(stats_list)]
                       + [set_markdown(s) for s in stats_list])
    with open(paths['statistics.md'], 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    return list(paths.values()) + figures
