"""The two variants of the benchmark, each run in its own subprocess.

* :func:`run_ours`: the product, ``configs/gen/<source>_hbox.py`` through mmengine's
  ``Runner`` and ``GenerationLoop`` with its default settings (precision ``'auto'``,
  efficient attention, prompt chunk, batch, workers) unless the command line sets them;
* :func:`run_official`: the loop of the official SAMRS/SAM scripts, ``SamPredictor``
  one image at a time in fp32, 20 boxes per ``predict_torch`` call.
"""
import json
import os
import os.path as osp
import time
from pathlib import Path
from typing import List

import numpy as np

from .data import group_config
from .sam_hooks import autocast, build_arch, setup_model_timing, warm_up, warm_up_generator
from .timing import MemorySampler, StageTimer, cpu_seconds, memory_report


def run_ours(spec: dict, timer: StageTimer, memory: MemorySampler) -> dict:
    """The product: Runner + GenerationLoop from a config, one run per source group."""
    import mmsamrs  # noqa: F401  (compatibility fixes first)
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmsamrs.datasets.transforms import (LoadImageOrRecordError, PackSAMInputs,
                                             SAMPrompts)
    from mmsamrs.engine import GenerationLoop
    from mmsamrs.generation import SAMRSLabelWriter, label_writer
    from mmsamrs.models.sam import SAMDataPreprocessor
    from mmsamrs.models.sam.backends import BACKENDS

    sync = spec['device'] == 'cuda'
    setup_model_timing(timer, spec['device'], spec['masks'])
    timer.wrap(LoadImageOrRecordError, 'transform', 'load')
    timer.wrap(SAMPrompts, 'transform', 'prompts')
    timer.wrap(PackSAMInputs, 'transform', 'prompts')
    timer.wrap(SAMDataPreprocessor, 'forward', 'preprocess', sync)
    for backend in BACKENDS:
        if 'postprocess' in vars(backend):
            timer.wrap(backend, 'postprocess', 'postprocess', sync)
    timer.wrap(GenerationLoop, 'run_iter', 'other')
    timer.wrap(GenerationLoop, 'run', 'loop')
    timer.wrap(label_writer, 'paint_order', 'paint')
    timer.wrap(label_writer, 'paint_labels', 'paint')
    timer.wrap(label_writer, 'encode_crop', 'rle')
    timer.wrap(label_writer, 'encode_png', 'png')
    timer.wrap(label_writer, 'atomic_write_bytes', 'file_io')
    timer.wrap(SAMRSLabelWriter, 'write', 'write_other')
    timer.wrap(SAMRSLabelWriter, 'finalize', 'merge')

    setup = 0.0
    process_cpu = np.zeros(2)
    outputs, precision = {}, None
    for group in spec['groups']:
        start = time.perf_counter()
        timer.enabled = False
        cfg_path = group_config(spec, group, Path(spec['tmp']) / f"bench_{group['name']}.py")
        cfg = Config.fromfile(str(cfg_path))
        cfg.work_dir = outputs[group['name']] = osp.join(spec['out'], group['name'])
        cfg.launcher = 'none'
        runner = Runner.from_cfg(cfg)  # with checkpoint None: random weights, seed 0
        if spec['checkpoint'] is None:  # the official loop loads the very same weights
            torch.save(runner.model.sam.state_dict(), spec['random_checkpoint'])
            spec['checkpoint'] = spec['random_checkpoint']
        precision = runner.model.precision_on(torch.device(spec['device']))
        warm_up_generator(runner.model, spec['device'])
        timer.enabled = True
        loop_before = timer.inclusive.get('loop', 0.0)
        before = cpu_seconds()
        with memory.measuring():
            runner.test()
        process_cpu += cpu_seconds() - before
        setup += time.perf_counter() - start - (timer.inclusive['loop'] - loop_before)
        del runner
    wall, cpu, inclusive = timer.totals()
    # main thread inside GenerationLoop.run but in no timed stage (a model step, the final
    # merge, loading when there are no workers): waiting for the dataloader and, when the
    # queue of results is full and at the end, for the writer threads
    wall['wait'], cpu['wait'] = wall.pop('loop'), cpu.pop('loop')
    return dict(wall_s=inclusive['loop'] - wall.get('substitute', 0.0), setup_s=setup,
                wall=wall, cpu=cpu, outputs=outputs, torch_threads=torch.get_num_threads(),
                process_cpu_s=process_cpu.tolist(), precision=precision)


def run_official(spec: dict, timer: StageTimer, memory: MemorySampler) -> dict:
    """The official-style loop: SamPredictor one image at a time, 20 boxes per call."""
    import mmsamrs  # noqa: F401  (the CPU torchvision fix that segment_anything needs here)
    import cv2
    import torch
    from mmengine.config import Config
    from pycocotools import mask as mask_utils
    from segment_anything import SamPredictor

    from mmsamrs.generation.label_writer import encode_png
    from mmsamrs.models.sam import load_sam_weights
    from mmsamrs.registry import DATASETS

    device, chunk = spec['device'], spec['official_chunk']
    precision = spec['official_precision']
    sync = device == 'cuda'
    setup_model_timing(timer, device, spec['masks'])
    timer.wrap(SamPredictor, 'set_image', 'preprocess', sync)  # minus the encoder (nested)
    timer.wrap(SamPredictor, 'predict_torch', 'postprocess', sync)  # minus the decoder

    start = time.perf_counter()
    timer.enabled = False
    checkpoint = spec['checkpoint'] or spec['random_checkpoint']
    torch.manual_seed(0)  # used only by --only official without --checkpoint
    sam = build_arch(spec['arch'])
    if osp.isfile(checkpoint):
        sam.load_state_dict(load_sam_weights(checkpoint))
    sam.to(device).eval()
    predictor = SamPredictor(sam)
    datasets = []
    for group in spec['groups']:
        cfg_path = group_config(spec, group, Path(spec['tmp']) / f"off_{group['name']}.py")
        dataset_cfg = Config.fromfile(str(cfg_path)).test_dataloader.dataset
        dataset_cfg.pipeline = []
        datasets.append((group['name'], DATASETS.build(dataset_cfg)))
    warm_up(sam, device, precision)
    timer.enabled = True
    setup = time.perf_counter() - start

    outputs = {}
    wall_s = 0.0
    process_cpu = np.zeros(2)
    for name, dataset in datasets:
        start, start_cpu = time.perf_counter(), cpu_seconds()
        out = outputs[name] = osp.join(spec['out'], name)
        for sub in ('gray', 'color'):
            os.makedirs(osp.join(out, sub), exist_ok=True)
        classes = dataset.metainfo['classes']
        palette = dataset.metainfo['palette'][:len(classes)]
        images, annotations = [], []
        with memory.measuring():
            for index in range(len(dataset)):
                info = dataset.get_data_info(index)
                with timer.section('load'):
                    image = cv2.cvtColor(cv2.imread(info['img_path']), cv2.COLOR_BGR2RGB)
                height, width = image.shape[:2]
                with autocast(device, precision), torch.no_grad():
                    predictor.set_image(image)
                instances = info['instances']
                boxes = np.array([inst['bbox'] for inst in instances],
                                 np.float32).reshape(-1, 4)
                labels = [inst['bbox_label'] for inst in instances]
                label_map = np.full((height, width), 255, np.uint8)
                image_id = len(images) + 1
                for first in range(0, len(boxes), chunk):
                    with timer.section('prompts', sync):
                        prompt = predictor.transform.apply_boxes_torch(
                            torch.as_tensor(boxes[first:first + chunk], device=device),
                            (height, width))
                    with autocast(device, precision), torch.no_grad():
                        masks, scores, _ = predictor.predict_torch(
                            point_coords=None, point_labels=None, boxes=prompt,
                            multimask_output=False)
                    with timer.section('postprocess', sync):
                        masks = masks[:, 0].cpu().numpy()
                        scores = scores[:, 0].float().cpu().numpy()
                    for j, mask in enumerate(masks):
                        k = first + j
                        with timer.section('paint'):
                            label_map[mask] = labels[k]
                        with timer.section('rle'):
                            rle = mask_utils.encode(np.asfortranarray(mask))
                            area = int(mask_utils.area(rle))
                            mask_bbox = [int(v) for v in mask_utils.toBbox(rle)]
                            rle['counts'] = rle['counts'].decode('ascii')
                        x1, y1, x2, y2 = (float(v) for v in instances[k]['bbox'])
                        annotations.append(dict(
                            id=len(annotations) + 1, image_id=image_id, segmentation=rle,
                            area=area, bbox=[x1, y1, x2 - x1, y2 - y1], mask_bbox=mask_bbox,
                            category_id=labels[k] + 1, category_name=classes[labels[k]],
                            score=round(float(scores[j]), 4), iscrowd=0, source_index=k))
                stem = info['img_id']
                images.append(dict(id=image_id, stem=stem, file_name=osp.basename(
                    info['img_path']), height=height, width=width))
                with timer.section('png'):
                    encoded = dict(gray=encode_png(label_map),
                                   color=encode_png(label_map, palette))
                with timer.section('file_io'):
                    for sub, data in encoded.items():
                        with open(osp.join(out, sub, stem + '.png'), 'wb') as f:
                            f.write(data)
            with timer.section('merge'):
                coco = dict(images=images, annotations=annotations,
                            categories=[dict(id=i + 1, name=c) for i, c in enumerate(classes)])
                with open(osp.join(out, 'instances.json'), 'w') as f:
                    json.dump(coco, f)
        wall_s += time.perf_counter() - start
        process_cpu += cpu_seconds() - start_cpu
    wall, cpu, _ = timer.totals()
    # everything runs on the main thread here: the rest of the loop is its bookkeeping
    wall['other'] = wall_s - sum(wall.values())
    wall_s -= wall.get('substitute', 0.0)
    return dict(wall_s=wall_s, setup_s=setup, wall=wall, cpu=cpu, outputs=outputs,
                torch_threads=torch.get_num_threads(), process_cpu_s=process_cpu.tolist(),
                precision=precision)


def variant_main(variant: str, spec_path: str) -> None:
    """Entry of a variant's subprocess: run it, write its result JSON."""
    with open(spec_path) as f:
        spec = json.load(f)
    timer = StageTimer(osp.join(spec['tmp'], f"timings_{spec['run_id']}"),
                       cuda_sync=spec['device'] == 'cuda')
    memory = MemorySampler()
    run = run_ours if variant == 'ours' else run_official
    result = run(spec, timer, memory)
    result.update(memory_report(spec['device']))
    result.update(peak_pss_mib=memory.peak_pss_mib, peak_rss_sum_mib=memory.peak_rss_sum_mib)
    with open(osp.join(spec['tmp'], f"result_{spec['run_id']}.json"), 'w') as f:
        json.dump(result, f)


def merge_runs(runs: List[dict]) -> dict:
    """Medians of the times over repeated runs of a variant, maxima of the memory peaks;
    the outputs of the last run."""
    def median(values):
        return float(np.median(values))

    merged = dict(runs[-1])
    merged['runs_wall_s'] = [r['wall_s'] for r in runs]
    for key in ('wall_s', 'setup_s'):
        merged[key] = median([r[key] for r in runs])
    merged['process_cpu_s'] = np.median([r['process_cpu_s'] for r in runs], 0).tolist()
    for key in ('wall', 'cpu'):
        stages = {k for r in runs for k in r[key]}
        merged[key] = {k: median([r[key].get(k, 0.0) for r in runs]) for k in stages}
    for key in ('rss_peak_mib', 'rss_children_peak_mib', 'cuda_peak_mib', 'peak_pss_mib',
                'peak_rss_sum_mib'):
        if key in runs[-1]:
            merged[key] = max(r[key] for r in runs)
    return merged
