"""Statistics of SAMRS sets (paper Table 2, Figures 5 and 6), streamed over the label files.

``load_sets`` finds a set's files in the generator's or the public release's layout,
``analyze_set`` measures it with a pool of worker processes, ``write_reports`` writes the
CSVs, the Markdown tables and the figures. ``tools/analyze_dataset.py`` is the CLI.
"""
from .coco_stream import (annotations_for_stems, category_label_indices,
                          classes_from_categories, image_stem, iter_coco)
from .plots import plot_class_histograms, plot_mask_sizes
from .reports import table2_markdown, table2_row, write_reports
from .set_files import SetSource, find_image, load_sets, resolve_classes
from .statistics import (SIZE_BIN_EDGES, ImageStats, SetAccumulator, SetStatistics,
                         analyze_set, count_coco_instances, default_workers, measure_image,
                         size_bin, size_bin_label)

__all__ = [
    'ImageStats', 'SIZE_BIN_EDGES', 'SetAccumulator', 'SetSource', 'SetStatistics',
    'analyze_set', 'annotations_for_stems', 'category_label_indices',
    'classes_from_categories', 'count_coco_instances', 'default_workers', 'find_image',
    'image_stem', 'iter_coco', 'load_sets', 'measure_image', 'plot_class_histograms',
    'plot_mask_sizes', 'resolve_classes', 'size_bin', 'size_bin_label', 'table2_markdown',
    'table2_row', 'write_reports'
]
