"""The prompt study of the SAMRS paper (section 2.4, Table 1): settings, study config, report.

:func:`study_config` turns a prompt-study config (``configs/gen/hrsc_prompts.py``) and the
settings to run, or several configs identical but for the ``prompts`` of their
``SAMPrompts`` step, into one runner config whose ``PromptStudyLoop`` encodes every image
once per model and decodes all settings from that embedding, for one model or several
(SAM, HQ-SAM, SAM 2.1: :func:`study_models`); :func:`write_report` writes the result in
Table 1's layout, one column group per model, with each model's timing.
"""
import copy
import csv
import json
import math
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmengine.config import Config

from mmsamrs.datasets.transforms.prompts import parse_prompt_setting
from mmsamrs.generation.crops import clip_crop
from mmsamrs.generation.rle import encode_crop
from mmsamrs.registry import TRANSFORMS
from mmsamrs.utils import atomic_write_bytes

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
#: Folder (in the output directory) of the predicted masks, ``<setting>.json`` each
#: (``<model>/<setting>.json`` in a study of several models).
MASKS_DIR = 'masks'
#: Timing columns of the report (seconds, summed over the images of the study).
TIMING_KEYS = ('images', 'encoder_s', 'decoder_s')


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


def study_models(model: Mapping[str, Any],
                 models: Sequence[Union[str, Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """The models of a study: ``dict(name=..., model=<model config>)`` each.

    Each entry of ``models`` changes the config's ``model``: a released arch name
    (``'sam2.1_hiera_t'``: that arch with its official weights), ``'ARCH=CHECKPOINT'``
    (that arch and weight file), or a dict of model keys (``arch``, ``checkpoint``, ...;
    ``name`` for the column group, required when ``arch`` is a dict). Names must differ.
    """
    entries, names = [], []
    for entry in models:
        if isinstance(entry, str):
            arch, _, checkpoint = entry.partition('=')
            entry = dict(arch=arch, checkpoint=checkpoint or 'official')
        entry = dict(entry)
        name = entry.pop('name', entry.get('arch'))
        if not isinstance(name, str):
            raise ValueError(f'study model {entry} needs a name (its arch is not a name)')
        names.append(name)
        entries.append(dict(name=name, model=dict(copy.deepcopy(dict(model)), **entry)))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'study models given more than once: {repeated}')
    return entries


def study_config(cfgs: Sequence[Config], settings: Optional[Sequence[str]] = None,
                 models: Optional[Sequence[Union[str, Mapping[str, Any]]]] = None) -> Config:
    """One runner config that runs the prompt settings of ``cfgs`` with shared embeddings.

    The configs must be equal except for the ``prompts`` of their ``SAMPrompts`` step
    (same data, model, pipeline otherwise), since one encoder pass serves all settings.
    The result is the first config with ``test_cfg = dict(type='PromptStudyLoop',
    settings=...)``: the configs' settings (or ``settings``, e.g. ``['table1']``) in
    Table 1's order. ``models`` (else the config's ``study_models``, if any) runs several
    models (:func:`study_models`; the first one is the runner's ``model``) and adds
    ``models=[dict(name=..., model=...), ...]`` to ``test_cfg``. ``ValueError`` names the
    keys where the configs differ.
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
    models = models or study.get('study_models')
    if models:
        entries = study_models(study.model.to_dict(), models)
        study.model = entries[0]['model']
        study.test_cfg.models = entries
    return study


def _fmt(value: float) -> str:
    return 'n/a' if math.isnan(value) else f'{value:.2f}'


def metric_columns(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> List[tuple]:
    """``(model, metric, header)`` of the metric columns: ``mIoU_I``, ``mIoU_P`` for one
    model; ``<model> mIoU_I``, ``<model> mIoU_P`` per model (a column group each) for
    several."""
    return [(model, metric, metric if len(rows) == 1 else f'{model} {metric}')
            for model in rows for metric in TABLE_METRICS]


def setting_names(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> List[str]:
    """The settings of the study (every model runs the same ones), in row order."""
    return list(next(iter(rows.values())))


def markdown_table(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """Table 1's layout: one row per setting, its prompts ticked, then mIoU_I and mIoU_P
    of each model (``rows``: model -> setting -> metrics)."""
    columns = metric_columns(rows)
    header = ['Setting', *TABLE1_PROMPTS.values(), *(c[2] for c in columns)]
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' + ':-:|' * len(TABLE1_PROMPTS) + '--:|' * len(columns)]
    for name in setting_names(rows):
        used = parse_prompt_setting(name)
        ticks = ['✓' if p in used else '' for p in TABLE1_PROMPTS]
        lines.append('| ' + ' | '.join(
            [name, *ticks, *(_fmt(rows[model][name][metric]) for model, metric, _ in columns)])
            + ' |')
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


def timing_table(timing: Mapping[str, Mapping[str, float]]) -> str:
    """One row per model: images, encoder and decoder seconds (all settings), per image."""
    lines = ['| Model | images | encoder (s) | decoder, all settings (s) | s / image |',
             '|---|--:|--:|--:|--:|']
    for model, t in timing.items():
        per_image = (t['encoder_s'] + t['decoder_s']) / max(t['images'], 1)
        lines.append(f"| {model} | {t['images']} | {t['encoder_s']:.2f} | "
                     f"{t['decoder_s']:.2f} | {per_image:.3f} |")
    return '\n'.join(lines)


def axis_top(values: Sequence[float]) -> float:
    """Upper y limit of the bar plot: 20% above the highest value (room for the bar
    labels), rounded up to a multiple of 5; 100 when there is no positive value."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite or max(finite) <= 0:
        return 100.0
    return 5.0 * math.ceil(max(finite) * 1.2 / 5)


def bar_figure(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> Figure:
    """Grouped bar plot of mIoU_I and mIoU_P of each model per setting (matplotlib, Agg
    canvas; ``rows``: model -> setting -> metrics).

    Each bar is labelled with its value as in the tables (``n/a`` for NaN); the y axis
    ends a little above the highest value (:func:`axis_top`), so low values stay readable.
    """
    settings = setting_names(rows)
    columns = metric_columns(rows)
    figure = Figure(figsize=(max(6.0, 0.35 * len(columns) * len(settings) + 2), 4.5),
                    layout='constrained')
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.8 / len(columns)
    values = {header: [rows[model][name][metric] for name in settings]
              for model, metric, header in columns}
    for k, (header, series) in enumerate(values.items()):
        bars = axes.bar([i + (k - (len(columns) - 1) / 2) * width for i in range(len(settings))],
                        [0.0 if math.isnan(v) else v for v in series], width,
                        label=f'{header} (%)')
        axes.bar_label(bars, labels=[_fmt(v) for v in series], padding=2,
                       fontsize=7, rotation=90)
    axes.set_xticks(range(len(settings)), settings, rotation=45, ha='right')
    axes.set_ylabel('IoU (%)')
    axes.set_ylim(0, axis_top([v for vs in values.values() for v in vs]))
    axes.set_title('SAM prompt settings (SAMRS Table 1)')
    axes.legend(loc='upper left', ncols=2, fontsize=8)
    return figure


def image_masks(result: Mapping[str, Any]) -> Dict[str, Any]:
    """One image's predictions (a ``SAMGenerator`` result) with the masks as RLE.

    Returns ``img_id``, ``file_name``, ``height``, ``width``, ``error`` (of an image that
    failed to load) and ``annotations``: per instance its compressed RLE
    ``segmentation``, ``area``, ``bbox`` (of the mask), ``category_id`` (label + 1),
    ``score`` and ``source_index`` (its index in the image).
    """
    height, width = result['ori_shape'][:2]
    annotations = []
    for index, (mask, offset) in enumerate(zip(result['mask_crops'], result['mask_offsets'])):
        crop = clip_crop(mask, offset, (height, width))
        annotations.append(dict(
            category_id=int(result['labels'][index]) + 1,
            segmentation=encode_crop(crop, (height, width)), area=crop.area,
            bbox=crop.bbox(), score=round(float(result['scores'][index]), 4), iscrowd=0,
            source_index=index))
    return dict(img_id=result['img_id'], file_name=os.path.basename(result['img_path']),
                height=height, width=width, error=result.get('error'),
                annotations=annotations)


def setting_masks(images: Sequence[Mapping[str, Any]],
                  classes: Sequence[str]) -> Dict[str, Any]:
    """COCO instances of one setting from its :func:`image_masks` records.

    Images are sorted by ``img_id`` and numbered from 1, annotations numbered in that
    order; categories are ``id`` = label + 1 and the class names.
    """
    coco_images, annotations = [], []
    for image_id, image in enumerate(sorted(images, key=lambda r: r['img_id']), 1):
        coco_images.append(dict({k: v for k, v in image.items() if k != 'annotations'},
                                id=image_id))
        annotations += [dict(ann, id=len(annotations) + i, image_id=image_id)
                        for i, ann in enumerate(image['annotations'], 1)]
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(classes)]
    return dict(images=coco_images, annotations=annotations, categories=categories)


def write_setting_masks(out_dir: str, setting: str, images: Sequence[Mapping[str, Any]],
                        classes: Sequence[str]) -> str:
    """Write :func:`setting_masks` to ``<out_dir>/masks/<setting>.json`` atomically;
    return the path."""
    path = os.path.join(out_dir, MASKS_DIR, f'{setting}.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_bytes(path, json.dumps(setting_masks(images, classes)).encode('utf-8'))
    return path


def write_report(out_dir: str, rows: Mapping[str, Mapping[str, Mapping[str, float]]],
                 per_instance: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
                 timing: Optional[Mapping[str, Mapping[str, float]]] = None) -> str:
    """Write the study's Markdown, CSV, JSON, bar plot and per-instance CSV; return the
    Markdown.

    Args:
        out_dir: output directory (created if missing); file names in
            :data:`REPORT_FILES`.
        rows: model name -> setting name (paper spelling) -> its ``InstanceIoUMetric``
            metrics, settings in row order; one column group per model.
        per_instance: model name -> setting name -> the metric's per-instance records.
        timing: model name -> :data:`TIMING_KEYS` (a timing table per model).
    """
    os.makedirs(out_dir, exist_ok=True)
    first = next(iter(next(iter(rows.values())).values()))  # all evaluate the same instances
    classes = [k.split('/', 1)[1] for k in first if k.startswith('mIoU_I/')]
    text = [
        '# SAM prompt study (SAMRS paper, Table 1)', '',
        f'Images: {first["images"]} ({first["failed_images"]} more failed to load). '
        f'Instances with a ground-truth mask: {first["instances"]} ({first["without_mask"]} '
        'without one, left out). IoU in %: mIoU_I = mean of I_i/U_i, '
        'mIoU_P = sum I_i / sum U_i.', '',
        markdown_table(rows)]
    if len(classes) > 1:
        for model, model_rows in rows.items():
            title = '' if len(rows) == 1 else f', {model}'
            text += ['', f'## Per class (mIoU_I / mIoU_P){title}', '',
                     per_class_table(model_rows, classes)]
    if timing:
        text += ['', '## Timing', '', timing_table(timing)]
    markdown = '\n'.join(text) + '\n'
    with open(os.path.join(out_dir, REPORT_FILES['markdown']), 'w', encoding='utf-8') as f:
        f.write(markdown)
    columns = metric_columns(rows)
    with open(os.path.join(out_dir, REPORT_FILES['csv']), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['setting', *TABLE1_PROMPTS.values(),
                         *(f'{header} (%)' for *_, header in columns)])
        for name in setting_names(rows):
            used = parse_prompt_setting(name)
            writer.writerow([name, *(int(p in used) for p in TABLE1_PROMPTS),
                             *(round(rows[model][name][metric], 4)
                               for model, metric, _ in columns)])
    with open(os.path.join(out_dir, REPORT_FILES['json']), 'w', encoding='utf-8') as f:
        json.dump([dict(model=model, setting=name,
                        **{k: None if v != v else v for k, v in m.items()},
                        **({'timing': timing[model]} if timing else {}))
                   for model, model_rows in rows.items() for name, m in model_rows.items()],
                  f, indent=1)  # NaN (v != v) as null
    with open(os.path.join(out_dir, REPORT_FILES['per_instance']), 'w', newline='') as f:
        fields = ['model', 'setting', 'img_id', 'index', 'label', 'class', 'intersection',
                  'union', 'IoU (%)']
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
        writer.writeheader()
        for model, settings in per_instance.items():
            for name, records in settings.items():
                writer.writerows(
                    dict(record, model=model, setting=name,
                         **{'IoU (%)': round(100 * record['iou'], 4)}) for record in records)
    bar_figure(rows).savefig(os.path.join(out_dir, REPORT_FILES['plot']), dpi=120)
    return markdown
