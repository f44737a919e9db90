"""Markdown tables of a benchmark result (the headline table, stages, agreement)."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmsamrs.analysis.compare_runs import format_comparison

#: Stages of the table, in order: key, label.
STAGES = [
    ('load', 'loading (read + decode image)'),
    ('prompts', 'prompts (boxes to SAM frame, packing)'),
    ('preprocess', 'preprocess (resize, normalise, pad)'),
    ('encoder', 'image encoder'),
    ('decoder', 'prompt encoder + mask decoder'),
    ('postprocess', 'post-processing (logits to masks)'),
    ('other', 'other main-thread work'),
    ('paint', 'merging / painting the label map'),
    ('rle', 'RLE encoding'),
    ('png', 'PNG encoding'),
    ('file_io', 'file writes (PNG, per-image JSON)'),
    ('write_other', 'other writer work (crops, areas, JSON records)'),
    ('merge', 'final merge (instances.json)'),
]
#: Stages compared by the CPU time of the thread running them (see ``StageTimer``).
CPU_STAGES = ('load', 'prompts', 'paint', 'rle', 'png', 'file_io', 'write_other', 'merge')
#: Where ours runs a stage when not on the main thread (footnote marks).
BACKGROUND = dict(load='¹', prompts='¹', paint='²', rle='²', png='²', file_io='²',
                  write_other='²')


def fmt(value: Optional[float], digits: int = 2) -> str:
    """A number, or a dash when missing."""
    return '—' if value is None else f'{value:.{digits}f}'


def ratio(num: Optional[float], den: Optional[float]) -> str:
    """``num / den`` as ``'1.23x'`` (a dash when either is missing or not positive)."""
    if num is None or den is None or den <= 0 or num <= 0:
        return '—'
    return f'{num / den:.2f}x'


def basis(res: dict, key: str) -> Optional[float]:
    """The time a stage is compared by: CPU for the CPU-side stages, else wall."""
    return res['cpu' if key in CPU_STAGES else 'wall'].get(key)


def headline(result: dict) -> List[str]:
    """The short table: throughput, memory and mask agreement, ours vs official."""
    ours, off, spec = result['ours'], result['official'], result['spec']
    n_img, n_box = result['images'], result['instances']
    lines = [
        f"| SAM {spec['arch']}, {n_img} images, {n_box} boxes | ours, default settings "
        f"({ours['precision']}) | official loop ({off['precision']}) | ours / official |",
        '|---|---:|---:|---:|',
        f"| images/s | {fmt(n_img / ours['wall_s'], 3)} | {fmt(n_img / off['wall_s'], 3)} | "
        f"{ratio(off['wall_s'], ours['wall_s'])} |",
        f"| boxes/s | {fmt(n_box / ours['wall_s'])} | {fmt(n_box / off['wall_s'])} | "
        f"{ratio(off['wall_s'], ours['wall_s'])} |",
        f"| peak memory, all processes (MiB, PSS) | {fmt(ours['peak_pss_mib'], 0)} | "
        f"{fmt(off['peak_pss_mib'], 0)} | {ratio(ours['peak_pss_mib'], off['peak_pss_mib'])} |",
    ]
    if spec['device'] == 'cuda':
        lines.append(f"| peak GPU memory allocated (MiB) | {fmt(ours.get('cuda_peak_mib'), 0)}"
                     f" | {fmt(off.get('cuda_peak_mib'), 0)} | "
                     f"{ratio(ours.get('cuda_peak_mib'), off.get('cuda_peak_mib'))} |")
    agreement = result['agreement'].get('sam')
    if agreement:
        lines += [
            f"| mask IoU with the official fp32 masks (`--masks sam`): mean / min | "
            f"{agreement['mean_iou']:.4f} / {agreement['min_iou']:.4f} | 1 | |",
            f"| label maps equal to the official fp32 ones (% of pixels; class mIoU) | "
            f"{100 * agreement['pixel_agreement']:.2f}% ({agreement['label_miou']:.4f}) | "
            '100% | |',
        ]
    return lines


def format_report(result: dict) -> str:
    """The Markdown report: setting, headline, details, stages, agreement of the outputs."""
    spec, ours, off = result['spec'], result['ours'], result['official']
    arch = 'tiny (embed 64, depth 2)' if spec['arch'] == 'tiny' else spec['arch']
    weights = (f"checkpoint {osp.basename(spec['user_checkpoint'])}"
               if spec['user_checkpoint'] else 'random weights (seed 0)')
    masks = ("SAM's own masks" if spec['masks'] == 'sam' else
             'object-shaped masks (`--masks box`: the decoder runs, then its logits are '
             'replaced by an ellipse in each prompt box, in both variants)')

    def config(key: str, default) -> str:
        return str(spec[key]) if spec[key] is not None else f'{default} (config)'

    lines = [
        f"Scenario {spec['scenario']}: SAM {arch}, {weights}, {masks}; device "
        f"{spec['device']}. Ours: `configs/gen/*_hbox.py` through Runner + GenerationLoop, "
        f"precision {ours['precision']} ({config('precision', 'auto')}), batch "
        f"{config('batch_size', 2)}, {config('workers', 2)} dataloader workers, prompt chunk "
        f"{config('chunk', 4)}, 2 writer threads; official: SamPredictor in "
        f"{off['precision']}, 1 image per encoder pass, {spec['official_chunk']} boxes per "
        f"predict_torch. torch threads {ours['torch_threads']}; load average (1/5/15 min) "
        f"before {spec['load_before']}, after {spec['load_after']}." + (
            f" Median of {spec['repeat']} runs per variant in alternating order; wall time "
            f"per run (s): ours {', '.join(fmt(v, 1) for v in ours['runs_wall_s'])}; "
            f"official {', '.join(fmt(v, 1) for v in off['runs_wall_s'])}."
            if spec['repeat'] > 1 else ''),
        '',
        *headline(result),
        '',
        '| | ours | official | ours vs official |',
        '|---|---:|---:|---:|',
        f"| wall time, end to end (s) | {fmt(ours['wall_s'])} | {fmt(off['wall_s'])} | "
        f"{ratio(off['wall_s'], ours['wall_s'])} faster |",
        f"| peak RSS summed over processes (MiB; counts shared pages twice) | "
        f"{fmt(ours['peak_rss_sum_mib'], 0)} | {fmt(off['peak_rss_sum_mib'], 0)} | "
        f"{ratio(ours['peak_rss_sum_mib'], off['peak_rss_sum_mib'])} as much |",
        f"| peak RSS, main process, with setup (MiB) | {fmt(ours['rss_peak_mib'], 0)} | "
        f"{fmt(off['rss_peak_mib'], 0)} | {ratio(ours['rss_peak_mib'], off['rss_peak_mib'])} "
        'as much |',
    ]
    cpu_ours, cpu_off = sum(ours['process_cpu_s']), sum(off['process_cpu_s'])
    lines += [
        f"| CPU time, all threads and processes (s) | {fmt(cpu_ours)} | {fmt(cpu_off)} | "
        f"{ratio(cpu_ours, cpu_off)} as much |",
        f"| setup, not in the wall time (s): model, annotations, Runner, warm-up | "
        f"{fmt(ours['setup_s'])} | {fmt(off['setup_s'])} | |",
        '',
        '| stage (s) | ours wall | ours CPU | official wall | official CPU | '
        'official / ours |',
        '|---|---:|---:|---:|---:|---:|',
    ]
    for key, label in STAGES:
        mark = BACKGROUND.get(key, '') if not (key in ('load', 'prompts')
                                               and spec['workers'] == 0) else ''
        on = 'CPU' if key in CPU_STAGES else 'wall'
        lines.append(
            f"| {label} | {fmt(ours['wall'].get(key))}{mark} | {fmt(ours['cpu'].get(key))} | "
            f"{fmt(off['wall'].get(key))} | {fmt(off['cpu'].get(key))} | "
            f"{ratio(basis(off, key), basis(ours, key))} ({on}) |")
    lines.append(f"| main thread waiting for data / writers | {fmt(ours['wall'].get('wait'))} "
                 '| | — | | |')
    lines += [
        '',
        '¹ in dataloader workers (other processes), ² in writer threads: both overlap the '
        "SAM passes of the main thread, so ours' stage times add up to more than its wall "
        'time, and their wall time includes waiting for a core; such stages are compared by '
        "the CPU time of their thread, torch stages by wall time. 'other main-thread work': "
        'ours, the model step outside the timed parts (result dicts, hooks); official, the '
        'untimed rest of its loop (annotation records). Peak memory is sampled every 0.1 s '
        'during the timed loops; PSS counts a page shared by n processes 1/n in each.',
    ]
    if spec['masks'] == 'box':
        lines.append(f"Making the object-shaped logits took {fmt(ours['wall'].get('substitute'))}"
                     f" s (ours) and {fmt(off['wall'].get('substitute'))} s (official); "
                     'left out of every figure.')
    lines += ['', f"Agreement of the timed runs' outputs ({spec['masks']} masks): "
              f"{format_comparison(result['agreement']['timed'])}."]
    if result['agreement'].get('sam'):
        lines.append(f"Agreement with SAM's own masks (`--masks sam` pair, ours "
                     f"{ours['precision']} vs official {off['precision']}): "
                     f"{format_comparison(result['agreement']['sam'])}.")
    slower, extra = slower_stages(result)
    lines += ['', ('Stages where ours is slower than the official loop (beyond 5% + 0.1% of '
                   'the wall time): ' + '; '.join(slower)) if slower else
              ('Ours is not slower than the official loop in any stage (beyond 5% + 0.1% of '
               'the wall time).')]
    if extra:
        lines.append('Work of ours that the official loop does not do (resume fragments, '
                     'per-instance boxes): ' + '; '.join(extra))
    return '\n'.join(lines)


def slower_stages(result: Dict[str, dict], rel: float = 0.05,
                  of_wall: float = 0.001) -> Tuple[List[str], List[str]]:
    """Stages where ours took longer than the official loop by more than a noise margin
    (``rel`` of the official time plus ``of_wall`` of ours' wall time, at least 0.02 s),
    and stages of ours that the official loop does not have."""
    slower, extra = [], []
    margin = max(0.02, of_wall * result['ours']['wall_s'])
    for key, label in STAGES:
        a, b = basis(result['ours'], key), basis(result['official'], key)
        on = 'CPU' if key in CPU_STAGES else 'wall'
        if a is not None and b is None:
            extra.append(f'{label}: {a:.2f} s ({on})')
        elif a is not None and a > b * (1 + rel) + margin:
            slower.append(f'{label}: ours {a:.2f} s, official {b:.2f} s ({on})')
    return slower, extra
