"""The prompt study of the SAMRS paper (section 2.4, Table 1): settings, study config, report.

:func:`study_config` merges the configs of several prompt settings (identical but for
the ``prompts`` of their ``SAMPrompts`` step, e.g. ``configs/gen/hrsc_prompts/*.py``) into
one runner config whose ``PromptStudyLoop`` encodes every image once and decodes all
settings from that embedding; :func:`write_report` writes the result in Table 1's layout.
"""
import copy
import csv
import json
import math
import os
from typing import Any, List, Mapping, Optional, Sequence, Union

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmengine.config import Config

from mmsamrs.datasets.transforms.prompts import parse_prompt_setting
from mmsamrs.registry import TRANSFORMS

#: Prompt columns of Table 1, with the paper's names.
TABLE1_PROMPTS = {'cp': 'CP', 'hbox': 'H-Box', 'hbox_mask': 'H-Box-M',
                  'rbox_mask': 'R-Box-M', 'rhbox': 'RH-Box', 'rhbox_mask': 'RH-Box-M'}
#: The 15 rows of Table 1, in the paper's order.
TABLE1_SETTINGS = (
    'CP',
    'H-Box', 'H-Box-M', 'CP+H-Box', 'H-Box+H-Box-M', 'CP+H-Box-M', 'CP+H-Box+H-Box-M',
    'R-Box-M', 'CP+R-Box-M',
    'RH-Box', 'RH-Box-M', 'CP+RH-Box', 'RH-Box+RH-Box-M', 'CP+RH-Box-M',
    'CP+RH-Box+RH-Box-M')
#: Metrics of the table, from ``InstanceIoUMetric``.
TABLE_METRICS = ('mIoU_I', 'mIoU_P')
#: Files written by :func:`write_report` into the output directory.
REPORT_FILES = dict(markdown='prompt_study.md', csv='prompt_study.csv',
                    json='prompt_study.json', plot='prompt_study.png',
                    per_instance='per_instance.csv')


def setting_name(setting: Union[str, Sequence[str]]) -> str:
    """The paper's spelling of a prompt setting, e.g. ``'cp+rhbox'`` -> ``'CP+RH-Box'``."""
    return '+'.join(TABLE1_PROMPTS[p] for p in parse_prompt_setting(setting))


def order_settings(settings: Union[str, Sequence[Union[str, Sequence[str]]]]) -> List[str]:
    """Paper names of ``settings``, Table 1's rows first in the table's order.

    ``'table1'`` stands for all 15 rows; settings that are not in Table 1 follow in the
    given order. A single string is one setting. A setting given twice is a ``ValueError``.
    """
    if isinstance(settings, str):
        settings = [settings]
    names: List[str] = []
    for setting in settings:
        if isinstance(setting, str) and setting.lower() == 'table1':
            names += TABLE1_SETTINGS
        else:
            names.append(setting_name(setting))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'prompt settings given more than once: {repeated}')
    rank = {name: i for i, name in enumerate(TABLE1_SETTINGS)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), names.index(n)))


def find_prompt_step(pipeline: Sequence[Mapping]) -> int:
    """Index of the single ``SAMPrompts`` step of a pipeline config."""
    found = [i for i, step in enumerate(pipeline)
             if str(step.get('type')).split('.')[-1] == 'SAMPrompts']
    if len(found) != 1:
        raise ValueError(f'the prompt study needs exactly one SAMPrompts step in '
                         f'test_dataloader.dataset.pipeline, found {len(found)}')
    return found[0]


def study_config(cfgs: Sequence[Config], settings: Optional[Sequence[str]] = None) -> Config:
    """One runner config that runs the prompt settings of ``cfgs`` with shared embeddings.

    The configs must be equal except for the ``prompts`` of their ``SAMPrompts`` step
    (same data, model, pipeline otherwise), since one encoder pass serves all settings.
    The result is the first config with ``test_cfg = dict(type='PromptStudyLoop',
    settings=...)``: the configs' settings (or ``settings``, e.g. ``['table1']``) in
    Table 1's order. ``ValueError`` names the keys where the configs differ.
    """
    if not cfgs:
        raise ValueError('no config given')
    found, reference = [], None
    for cfg in cfgs:
        content = cfg.to_dict()
        pipeline = content['test_dataloader']['dataset']['pipeline']
        index = find_prompt_step(pipeline)
        found.append(setting_name(TRANSFORMS.build(copy.deepcopy(pipeline[index])).prompts))
        pipeline[index] = {k: v for k, v in pipeline[index].items() if k != 'prompts'}
        if reference is None:
            reference = content
        elif content != reference:
            keys = sorted(k for k in set(content) | set(reference)
                          if content.get(k) != reference.get(k))
            raise ValueError(f'{cfg.filename} differs from {cfgs[0].filename} in {keys}, not '
                             'only in the SAMPrompts prompts; a study shares one dataset and '
                             'model')
    study = copy.deepcopy(cfgs[0])
    study.test_cfg = dict(type='PromptStudyLoop', settings=order_settings(settings or found))
    return study


def _fmt(value: float) -> str:
    return 'n/a' if math.isnan(value) else f'{value:.2f}'


def markdown_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    """Table 1's layout: one row per setting, its prompts ticked, then mIoU_I and mIoU_P."""
    header = ['Setting', *TABLE1_PROMPTS.values(), *TABLE_METRICS]
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' + ':-:|' * len(TABLE1_PROMPTS) + '--:|' * len(TABLE_METRICS)]
    for name, metrics in rows.items():
        used = parse_prompt_setting(name)
        ticks = ['✓' if p in used else '' for p in TABLE1_PROMPTS]
        lines.append('| ' + ' | '.join([name, *ticks, *(_fmt(metrics[m]) for m in
                                                       TABLE_METRICS)]) + ' |')
    return '\n'.join(lines)


def per_class_table(rows: Mapping[str, Mapping[str, float]], classes: Sequence[str]) -> str:
    """One row per setting, one ``mIoU_I / mIoU_P`` column per class with instances."""
    lines = ['| Setting | ' + ' | '.join(classes) + ' |',
             '|---|' + '--:|' * len(classes)]
    for name, metrics in rows.items():
        cells = [f'{_fmt(metrics[f"mIoU_I/{c}"])} / {_fmt(metrics[f"mIoU_P/{c}"])}'
                 for c in classes]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_bars(rows: Mapping[str, Mapping[str, float]], path: str) -> None:
    """Grouped bar plot (PNG) of mIoU_I and mIoU_P per setting (matplotlib, Agg)."""
    figure = Figure(figsize=(max(6.0, 0.6 * len(rows) + 2), 4.5), layout='constrained')
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.4
    for k, metric in enumerate(TABLE_METRICS):
        values = [rows[name][metric] for name in rows]
        axes.bar([i + (k - 0.5) * width for i in range(len(rows))], values, width,
                 label=metric)
    axes.set_xticks(range(len(rows)), list(rows), rotation=45, ha='right')
    axes.set_ylabel('IoU (%)')
    axes.set_ylim(0, 100)
    axes.set_title('SAM prompt settings (SAMRS Table 1)')
    axes.legend()
    figure.savefig(path, dpi=120)


def write_report(out_dir: str, rows: Mapping[str, Mapping[str, float]],
                 per_instance: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Write the study's Markdown, CSV, JSON, bar plot and per-instance CSV; return the
    Markdown.

    Args:
        out_dir: output directory (created if missing); file names in
            :data:`REPORT_FILES`.
        rows: setting name (paper spelling) -> its ``InstanceIoUMetric`` metrics, in row
            order.
        per_instance: setting name -> the metric's per-instance records.
    """
    os.makedirs(out_dir, exist_ok=True)
    first = next(iter(rows.values()))  # every setting evaluates the same instances
    classes = [k.split('/', 1)[1] for k in first if k.startswith('mIoU_I/')]
    text = [
        '# SAM prompt study (SAMRS paper, Table 1)', '',
        f'Images: {first["images"]} ({first["failed_images"]} more failed to load). '
        f'Instances with a ground-truth mask: {first["instances"]} ({first["without_mask"]} '
        'without one, left out). IoU in %: mIoU_I = mean of I_i/U_i, '
        'mIoU_P = sum I_i / sum U_i.', '',
        markdown_table(rows)]
    if len(classes) > 1:
        text += ['', '## Per class (mIoU_I / mIoU_P)', '', per_class_table(rows, classes)]
    markdown = '\n'.join(text) + '\n'
    with open(os.path.join(out_dir, REPORT_FILES['markdown']), 'w', encoding='utf-8') as f:
        f.write(markdown)
    with open(os.path.join(out_dir, REPORT_FILES['csv']), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['setting', *TABLE1_PROMPTS.values(), *TABLE_METRICS])
        for name, metrics in rows.items():
            used = parse_prompt_setting(name)
            writer.writerow([name, *(int(p in used) for p in TABLE1_PROMPTS),
                             *(round(metrics[m], 4) for m in TABLE_METRICS)])
    with open(os.path.join(out_dir, REPORT_FILES['json']), 'w', encoding='utf-8') as f:
        json.dump([dict(setting=name, **{k: None if v != v else v for k, v in m.items()})
                   for name, m in rows.items()], f, indent=1)  # NaN (v != v) as null
    with open(os.path.join(out_dir, REPORT_FILES['per_instance']), 'w', newline='') as f:
        fields = ['setting', 'img_id', 'index', 'label', 'class', 'intersection', 'union',
                  'iou']
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for name, records in per_instance.items():
            writer.writerows(dict(record, setting=name) for record in records)
    plot_bars(rows, os.path.join(out_dir, REPORT_FILES['plot']))
    return markdown
