"""SAMRS label generation, end to end: ours against the official-style SAM loop.

Both variants take the same images, the same detection boxes (read by the same mmsamrs
source reader) and the same SAM weights, and write a label PNG, a colour PNG per image and
a COCO JSON per run:

* ``ours``: the product itself. For each source (DIOR, DOTA) a config inheriting
  ``configs/gen/<source>_hbox.py`` is run through mmengine's ``Runner`` and mmsamrs'
  ``GenerationLoop``: dataset -> pipeline (``LoadImageOrRecordError``, ``SAMPrompts``,
  ``PackSAMInputs``) in dataloader workers -> ``SAMDataPreprocessor`` -> ``SAMGenerator``
  (batched image encoder, chunked prompt decoder, cropped post-processing) ->
  ``SAMRSLabelWriter`` in background threads -> ``instances.json``. Only the config's
  data root, model size/weights/precision and (optionally) batch size, workers and prompt
  chunk are overridden; the overlap policy is set to ``'last'`` (annotation order, as the
  public release and the official loop below) so that the label maps are comparable.
* ``official``: the loop of the official SAMRS/SAM scripts: per image ``cv2.imread``,
  ``SamPredictor.set_image`` (PIL resize, one image per encoder pass), then
  ``predict_torch`` on chunks of 20 boxes (``predictor.transform.apply_boxes_torch``;
  ``multimask_output=False``; masks post-processed to full resolution by SAM), each mask
  painted into the label map in a Python loop and RLE-encoded with pycocotools on the
  full mask; PNGs written per image, one JSON at the end.

Each variant runs in its own subprocess (a fair peak RSS; ``ru_maxrss`` of the process and,
for ours, of its dataloader workers; ``torch.cuda.max_memory_allocated`` on a GPU; and the
CPU time, user + system, of all its threads and processes). Stage times come from timers
that this script wraps around library functions and methods (no library code is changed);
a stage's time is *exclusive* (time of nested timed stages is subtracted) and summed over
every process and thread, as wall time and as the CPU time of the thread running it. For
ours, loading runs in dataloader workers and painting/encoding/writing in writer threads,
in parallel with SAM, so its stage times add up to more than its wall time; those stages
are compared by CPU time, the torch stages by wall time. Setup (building the model, reading
annotations, Runner construction) and one warm-up SAM call are not timed.

Masks (``--masks``): a SAM with random weights paints every mask over most of the image
(its logits have nothing to do with the box), which no trained SAM does, and which makes
every mask-sized stage (post-processing, painting, RLE) image-sized. So without a
checkpoint the default is ``box``: the real mask decoder runs (its cost is measured), then
its logits are replaced by smooth logits that are positive inside the ellipse inscribed in
each prompt box, in both variants alike (that replacement is timed apart and left out).
``--masks sam`` keeps SAM's own masks (the default with ``--checkpoint``).

Finally the outputs are compared: per-instance mask IoU (pycocotools, on the RLEs of the two
``instances.json``) and the agreement of the label maps. With SAM's own masks they are not
bit-identical: the official ``set_image`` resizes the image with PIL on ``uint8`` while ours
resizes on the device with ``torch`` (bilinear, antialias, float), so the image embeddings
differ slightly. With ``--masks box`` both see the same logits, up to the prompt boxes'
rounding (float64 in ours, float32 in ``apply_boxes_torch``).

Usage::

    python benchmarks/generation.py     # tiny random SAM, CPU: 5-10 min on 2 cores
    python benchmarks/generation.py --arch vit_h --checkpoint sam_vit_h_4b8939.pth \\
        --device cuda --precision bf16 --batch-size 4
    python benchmarks/generation.py --images ../shared/realdata/dior/JPEGImages/00001.jpg

Images (``--images``) are DOTA-layout (``<root>/images/X.png`` + ``<root>/labelTxt/X.txt``)
or DIOR-layout (``<root>/JPEGImages/X.jpg`` + ``<root>/Annotations/<Horizontal|Oriented>
Bounding Boxes/X.xml``) files. By default: DIOR ``00001.jpg`` (1 box), DOTA ``P0706.png``
(1111x1182, 536 boxes) and ``--crops 3`` crops of P0706 written as DOTA files (dozens of
boxes each). Without ``--checkpoint`` ours builds SAM with random weights (the Runner's
seed 0) and saves them to a temporary file that the official loop loads. ``--arch tiny``
is SAM with a tiny image encoder (embed 64, depth 2); everything else is SAM's.
"""
import argparse
import contextlib
import functools
import io
import json
import os
import os.path as osp
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get('MMSAMRS_REALDATA', REPO.parent / 'shared' / 'realdata'))
TINY_ARCH = dict(embed_dim=64, depth=2, num_heads=2, global_attn_indexes=(1, ))
ARCHS = ('tiny', 'vit_b', 'vit_l', 'vit_h')
#: Crops of P0706 (name: x0, y0, side, at most this many objects lying inside).
P0706_CROPS = [('P0706_c0', 380, 220, 256, 24), ('P0706_c1', 704, 256, 256, 32),
               ('P0706_c2', 576, 128, 320, 40), ('P0706_c3', 512, 640, 320, 40)]
GEN_CONFIGS = dict(dota='dota_hbox.py', dior='dior_hbox.py')
DIOR_ANN_DIRS = ('Horizontal Bounding Boxes', 'Oriented Bounding Boxes')

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


# --------------------------------------------------------------------------- timing
class StageTimer:
    """Exclusive per-stage wall and CPU times over all threads of this process and its
    forked children.

    :meth:`wrap` replaces ``owner.name`` by a timed version, :meth:`section` times a block.
    A timed call nested in another one is subtracted from the outer stage (exclusive
    times). The CPU time is the calling thread's (``time.thread_time``): for the CPU-side
    stages (loading, painting, RLE, PNG, writing) it is the work done, free of the waiting
    that the wall time of a background thread includes when it shares the cores with SAM;
    for torch stages it misses the intra-op threads, so those are compared by wall time.
    Calls in forked processes (dataloader workers) append their times to
    ``<log_dir>/<pid>.tsv`` and :meth:`totals` adds them up.
    """

    def __init__(self, log_dir: str, cuda_sync: bool = False) -> None:
        self.log_dir = log_dir
        self.cuda_sync = cuda_sync
        self.enabled = True
        self.main_pid = os.getpid()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.wall: Dict[str, float] = defaultdict(float)
        self.cpu: Dict[str, float] = defaultdict(float)
        self.inclusive: Dict[str, float] = defaultdict(float)
        os.makedirs(log_dir, exist_ok=True)

    def add(self, stage: str, wall: float, cpu: float, inclusive: float) -> None:
        if os.getpid() != self.main_pid:
            with open(osp.join(self.log_dir, f'{os.getpid()}.tsv'), 'a') as f:
                f.write(f'{stage}\t{wall!r}\t{cpu!r}\t{inclusive!r}\n')
            return
        with self.lock:
            self.wall[stage] += wall
            self.cpu[stage] += cpu
            self.inclusive[stage] += inclusive

    def _sync(self, sync: bool) -> None:
        if sync and self.cuda_sync:
            import torch
            torch.cuda.synchronize()

    def _enter(self, sync: bool) -> Tuple[float, float]:
        self._sync(sync)
        self.local.__dict__.setdefault('stack', []).append([0.0, 0.0])
        return time.perf_counter(), time.thread_time()

    def _exit(self, stage: str, sync: bool, start: Tuple[float, float]) -> None:
        self._sync(sync)
        wall, cpu = time.perf_counter() - start[0], time.thread_time() - start[1]
        stack = self.local.stack
        nested_wall, nested_cpu = stack.pop()
        if stack:
            stack[-1][0] += wall
            stack[-1][1] += cpu
        self.add(stage, wall - nested_wall, cpu - nested_cpu, wall)

    def timed(self, fn: Callable, stage: str, sync: bool = False) -> Callable:
        """``fn`` timed as ``stage`` (``sync``: synchronise CUDA around it)."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not self.enabled:
                return fn(*args, **kwargs)
            start = self._enter(sync)
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit(stage, sync, start)

        return wrapper

    def wrap(self, owner, name: str, stage: str, sync: bool = False) -> None:
        setattr(owner, name, self.timed(getattr(owner, name), stage, sync))

    @contextlib.contextmanager
    def section(self, stage: str, sync: bool = False):
        """Time a block as ``stage``."""
        if not self.enabled:
            yield
            return
        start = self._enter(sync)
        try:
            yield
        finally:
            self._exit(stage, sync, start)

    def totals(self) -> Tuple[Dict[str, float], Dict[str, float], Dict[str, float]]:
        """Exclusive wall, exclusive CPU and inclusive wall seconds per stage."""
        wall, cpu, inclusive = (defaultdict(float, d)
                                for d in (self.wall, self.cpu, self.inclusive))
        for name in os.listdir(self.log_dir):
            with open(osp.join(self.log_dir, name)) as f:
                for line in f:
                    stage, w, c, i = line.split('\t')
                    wall[stage] += float(w)
                    cpu[stage] += float(c)
                    inclusive[stage] += float(i)
        return dict(wall), dict(cpu), dict(inclusive)


def rss_now_mib() -> float:
    """Resident set size of this process now (MiB)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def cpu_seconds() -> np.ndarray:
    """User + system CPU seconds of this process (all threads) and of its joined children."""
    return np.array([sum(resource.getrusage(who)[:2])
                     for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)])


def memory_report(device: str) -> dict:
    """Peak RSS of this process and of its (joined) children, peak CUDA memory (MiB)."""
    import torch
    scale = 1024 if platform.system() == 'Linux' else 1024 * 1024  # ru_maxrss units
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    report = dict(rss_peak_mib=own.ru_maxrss / scale,
                  rss_children_peak_mib=children.ru_maxrss / scale)
    if device == 'cuda':
        report['cuda_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    return report


# --------------------------------------------------------------------------- SAM helpers
def build_arch(arch: str):
    """SAM with random weights via segment_anything's builders (``tiny``: small encoder)."""
    from segment_anything.build_sam import _build_sam, sam_model_registry
    if arch == 'tiny':
        return _build_sam(encoder_embed_dim=TINY_ARCH['embed_dim'],
                          encoder_depth=TINY_ARCH['depth'],
                          encoder_num_heads=TINY_ARCH['num_heads'],
                          encoder_global_attn_indexes=list(TINY_ARCH['global_attn_indexes']))
    return sam_model_registry[arch]()


def autocast(device: str, precision: str):
    """Autocast context of ``precision`` (none for fp32), as ``SAMGenerator`` uses."""
    import torch
    dtype = dict(fp16=torch.float16, bf16=torch.bfloat16).get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=dtype)


def warm_up(sam, device: str, precision: str) -> None:
    """One untimed encoder pass and one decoder call (kernel selection, allocator)."""
    import torch
    size = sam.image_encoder.img_size
    with torch.no_grad(), autocast(device, precision):
        emb = sam.image_encoder(torch.zeros(1, 3, size, size, device=device))
        box = torch.tensor([[100., 100., 300., 300.]], device=device)
        sparse, dense = sam.prompt_encoder(points=None, boxes=box, masks=None)
        sam.mask_decoder(image_embeddings=emb, image_pe=sam.prompt_encoder.get_dense_pe(),
                         sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                         multimask_output=False)
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def instrument_model(timer: StageTimer, sync: bool) -> None:
    """Time SAM's own modules (the same classes in both variants)."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder
    timer.wrap(ImageEncoderViT, 'forward', 'encoder', sync)
    timer.wrap(PromptEncoder, 'forward', 'decoder', sync)
    timer.wrap(MaskDecoder, 'forward', 'decoder', sync)


def box_logits(boxes, like, img_size: int = 1024):
    """Object-shaped low-resolution logits: positive inside the ellipse inscribed in each
    prompt box (``boxes`` ``(N, 4)`` xyxy in SAM's input frame), shaped like ``like``
    ``(N, 1, h, w)``; smooth, so that the masks have real boundaries."""
    import torch
    num, _, height, width = like.shape
    b = boxes.reshape(num, 4).float()
    factor = img_size / height
    ys = (torch.arange(height, device=b.device) + 0.5) * factor
    xs = (torch.arange(width, device=b.device) + 0.5) * factor
    centre = (b[:, :2] + b[:, 2:]) / 2
    radius = ((b[:, 2:] - b[:, :2]) / 2).clamp(min=factor / 2)
    u = (xs[None] - centre[:, :1]) / radius[:, :1]
    v = (ys[None] - centre[:, 1:]) / radius[:, 1:]
    logits = 8 * (1 - v[:, :, None]**2 - u[:, None, :]**2)
    return logits[:, None].to(like.dtype)


def install_box_masks(timer: StageTimer) -> None:
    """``--masks box``: after the real (timed) mask decoder, replace its logits by
    :func:`box_logits` of the prompt boxes, in both variants alike. A SAM with random
    weights paints every mask over most of the image, which no real SAM does; this keeps
    the model's cost real and gives post-processing, painting, RLE and writing masks of
    real objects' sizes. The substitution is timed as its own stage and left out."""
    from segment_anything.modeling import MaskDecoder, PromptEncoder
    local = threading.local()
    encode, decode = PromptEncoder.forward, MaskDecoder.forward

    def prompt_forward(module, points=None, boxes=None, masks=None):
        local.boxes = boxes
        return encode(module, points, boxes, masks)

    def decoder_forward(module, *args, **kwargs):
        low_res, iou = decode(module, *args, **kwargs)
        if getattr(local, 'boxes', None) is None:
            raise RuntimeError('--masks box needs box prompts')
        with timer.section('substitute'):
            low_res = box_logits(local.boxes, low_res)
        return low_res, iou

    PromptEncoder.forward, MaskDecoder.forward = prompt_forward, decoder_forward


def setup_model_timing(timer: StageTimer, spec: dict) -> None:
    instrument_model(timer, spec['device'] == 'cuda')
    if spec['masks'] == 'box':
        install_box_masks(timer)


# --------------------------------------------------------------------------- data
def source_of(image: Path) -> Tuple[str, Path, Path]:
    """``(source, data root, annotation file)`` of an image in DOTA or DIOR layout."""
    root = image.parent.parent
    if image.parent.name == 'images':
        ann = root / 'labelTxt' / (image.stem + '.txt')
        if ann.is_file():
            return 'dota', root, ann
    if image.parent.name == 'JPEGImages':
        for sub in DIOR_ANN_DIRS:
            ann = root / 'Annotations' / sub / (image.stem + '.xml')
            if ann.is_file():
                return 'dior', root, ann
    raise FileNotFoundError(
        f'{image}: no annotation found; expected DOTA layout (<root>/images/X.png with '
        f'<root>/labelTxt/X.txt) or DIOR layout (<root>/JPEGImages/X.jpg with '
        f'<root>/Annotations/{{{"|".join(DIOR_ANN_DIRS)}}}/X.xml)')


def write_crops(p0706: Path, root: Path, crops) -> None:
    """Crops of P0706 as DOTA files, with the objects that lie inside each crop."""
    from PIL import Image
    image = Image.open(p0706).convert('RGB')
    ann = p0706.parent.parent / 'labelTxt' / (p0706.stem + '.txt')
    lines = [line for line in ann.read_text().splitlines()[2:] if line.strip()]
    for name, x0, y0, size, max_objects in crops:
        image.crop((x0, y0, x0 + size, y0 + size)).save(root / 'images' / f'{name}.png')
        kept = []
        for line in lines:
            fields = line.split()
            xy = np.array(fields[:8], dtype=float).reshape(4, 2) - (x0, y0)
            if xy.min() >= 0 and xy.max() < size and len(kept) < max_objects:
                kept.append(' '.join(f'{v:g}' for v in xy.ravel()) + ' '
                            + ' '.join(fields[8:]))
        (root / 'labelTxt' / f'{name}.txt').write_text('\n'.join(kept) + '\n')


def prepare_data(images: List[Path], num_crops: int, data_dir: Path) -> List[dict]:
    """One data root per source under ``data_dir`` (links to the images and annotations,
    crops written); returns the groups with their dataset overrides."""
    groups: Dict[str, dict] = {}
    for image in images:
        source, _, ann = source_of(image)
        root = data_dir / source
        if source == 'dota':
            img_sub, ann_sub = 'images', 'labelTxt'
            overrides = dict(data_root=str(root), version='1.0')
        else:
            img_sub, ann_sub = 'JPEGImages', f'Annotations/{ann.parent.name}'
            overrides = dict(data_root=str(root),
                             data_prefix=dict(img_path=img_sub, ann_path=ann_sub))
        (root / img_sub).mkdir(parents=True, exist_ok=True)
        (root / ann_sub).mkdir(parents=True, exist_ok=True)
        for src, sub in ((image, img_sub), (ann, ann_sub)):
            link = root / sub / src.name
            if not link.exists():
                link.symlink_to(src.resolve())
        groups.setdefault(source, dict(name=source, dataset=overrides))
    if num_crops:
        p0706 = REALDATA / 'dota' / 'images' / 'P0706.png'
        root = data_dir / 'dota'
        for sub in ('images', 'labelTxt'):
            (root / sub).mkdir(parents=True, exist_ok=True)
        write_crops(p0706, root, P0706_CROPS[:num_crops])
        groups.setdefault('dota', dict(name='dota',
                                       dataset=dict(data_root=str(root), version='1.0')))
    return [groups[k] for k in sorted(groups)]


def group_config(spec: dict, group: dict, path: Path) -> Path:
    """A generation config for one source: ``configs/gen/<source>_hbox.py`` + overrides."""
    model = dict(checkpoint=spec['checkpoint'], precision=spec['precision'])
    if spec['chunk']:
        model['prompt_chunk_size'] = spec['chunk']
    arch = (f"dict(_delete_=True, **{TINY_ARCH!r})" if spec['arch'] == 'tiny'
            else repr(spec['arch']))
    loader = {}
    if spec['batch_size']:
        loader['batch_size'] = spec['batch_size']
    if spec['workers'] is not None:
        loader['num_workers'] = spec['workers']
    path.write_text(
        f"_base_ = [{str(REPO / 'configs' / 'gen' / GEN_CONFIGS[group['name']])!r}]\n"
        f"model = dict(arch={arch}, **{model!r})\n"
        f"test_dataloader = dict(dataset=dict(**{group['dataset']!r}), **{loader!r})\n"
        "test_cfg = dict(overlap_policy='last')\n"
        "randomness = dict(seed=0)\n"
        "log_level = 'WARNING'\n")
    return path


# --------------------------------------------------------------------------- variants
def run_ours(spec: dict, timer: StageTimer) -> dict:
    """The product: Runner + GenerationLoop from a config, one run per source group."""
    import mmsamrs  # noqa: F401  (compatibility fixes first)
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmsamrs.datasets.transforms import (LoadImageOrRecordError, PackSAMInputs,
                                             SAMPrompts)
    from mmsamrs.engine import GenerationLoop
    from mmsamrs.generation import SAMRSLabelWriter, label_writer
    from mmsamrs.models.sam import SAMDataPreprocessor, sam_model

    sync = spec['device'] == 'cuda'
    setup_model_timing(timer, spec)
    timer.wrap(LoadImageOrRecordError, 'transform', 'load')
    timer.wrap(SAMPrompts, 'transform', 'prompts')
    timer.wrap(PackSAMInputs, 'transform', 'prompts')
    timer.wrap(SAMDataPreprocessor, 'forward', 'preprocess', sync)
    timer.wrap(sam_model, 'postprocess_masks_cropped', 'postprocess', sync)
    timer.wrap(GenerationLoop, 'run_iter', 'other')
    timer.wrap(GenerationLoop, 'run', 'loop')
    process_cpu = np.zeros(2)
    loop_run = GenerationLoop.run

    def run_measuring_cpu(loop):
        nonlocal process_cpu
        before = cpu_seconds()
        try:
            return loop_run(loop)
        finally:
            process_cpu += cpu_seconds() - before

    GenerationLoop.run = run_measuring_cpu
    timer.wrap(label_writer, 'paint_order', 'paint')
    timer.wrap(label_writer, 'paint_labels', 'paint')
    timer.wrap(label_writer, 'encode_crop', 'rle')
    timer.wrap(label_writer, 'encode_png', 'png')
    timer.wrap(label_writer, 'atomic_write_bytes', 'file_io')
    timer.wrap(SAMRSLabelWriter, 'write', 'write_other')
    timer.wrap(SAMRSLabelWriter, 'finalize', 'merge')

    setup = 0.0
    outputs = {}
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
        warm_up(runner.model.sam, spec['device'], spec['precision'])
        timer.enabled = True
        loop_before = timer.inclusive.get('loop', 0.0)
        runner.test()
        setup += time.perf_counter() - start - (timer.inclusive['loop'] - loop_before)
        del runner
    wall, cpu, inclusive = timer.totals()
    # main thread inside GenerationLoop.run but in no timed stage (a model step, the final
    # merge, loading when there are no workers): waiting for the dataloader and, when the
    # queue of results is full and at the end, for the writer threads
    wall['wait'], cpu['wait'] = wall.pop('loop'), cpu.pop('loop')
    return dict(wall_s=inclusive['loop'] - wall.get('substitute', 0.0), setup_s=setup,
                wall=wall, cpu=cpu, outputs=outputs, torch_threads=torch.get_num_threads(),
                process_cpu_s=process_cpu.tolist())


def run_official(spec: dict, timer: StageTimer) -> dict:
    """The official-style loop: SamPredictor one image at a time, 20 boxes per call."""
    import mmsamrs  # noqa: F401  (the CPU torchvision fix that segment_anything needs here)
    import cv2
    import torch
    from mmengine.config import Config
    from PIL import Image
    from pycocotools import mask as mask_utils
    from segment_anything import SamPredictor

    from mmsamrs.registry import DATASETS

    device, precision, chunk = spec['device'], spec['precision'], spec['official_chunk']
    sync = device == 'cuda'
    setup_model_timing(timer, spec)
    timer.wrap(SamPredictor, 'set_image', 'preprocess', sync)  # minus the encoder (nested)
    timer.wrap(SamPredictor, 'predict_torch', 'postprocess', sync)  # minus the decoder

    start = time.perf_counter()
    timer.enabled = False
    checkpoint = spec['checkpoint'] or spec['random_checkpoint']
    torch.manual_seed(0)  # used only by --only official without --checkpoint
    sam = build_arch(spec['arch'])
    if osp.isfile(checkpoint):
        sam.load_state_dict(torch.load(checkpoint, map_location='cpu'))
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
        palette = np.zeros((256, 3), np.uint8)
        palette[:len(classes)] = np.asarray(dataset.metainfo['palette'][:len(classes)])
        images, annotations = [], []
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            with timer.section('load'):
                image = cv2.cvtColor(cv2.imread(info['img_path']), cv2.COLOR_BGR2RGB)
            height, width = image.shape[:2]
            with autocast(device, precision), torch.no_grad():
                predictor.set_image(image)
            instances = info['instances']
            boxes = np.array([inst['bbox'] for inst in instances], np.float32).reshape(-1, 4)
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
                encoded = {}
                for sub, pal in (('gray', None), ('color', palette)):
                    png = Image.fromarray(label_map)
                    if pal is not None:
                        png.putpalette(pal.tobytes())
                    buf = io.BytesIO()
                    png.save(buf, format='PNG')
                    encoded[sub] = buf.getvalue()
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
                torch_threads=torch.get_num_threads(), process_cpu_s=process_cpu.tolist())


def variant_main(variant: str, spec_path: str) -> None:
    """Entry of a variant's subprocess: run it, write its result JSON."""
    with open(spec_path) as f:
        spec = json.load(f)
    timer = StageTimer(osp.join(spec['tmp'], f"timings_{spec['run_id']}"),
                       cuda_sync=spec['device'] == 'cuda')
    runner = run_ours if variant == 'ours' else run_official
    result = runner(spec, timer)
    result.update(memory_report(spec['device']))
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
    for key in ('rss_peak_mib', 'rss_children_peak_mib', 'cuda_peak_mib'):
        if key in runs[-1]:
            merged[key] = max(r[key] for r in runs)
    return merged


# --------------------------------------------------------------------------- comparison
def compare_outputs(ours: Dict[str, str], official: Dict[str, str]) -> dict:
    """Per-instance mask IoU and label-map agreement of the two variants' outputs."""
    from PIL import Image
    from pycocotools import mask as mask_utils
    ious, score_diffs, pixels, agree = [], [], 0, 0
    inter, union = defaultdict(int), defaultdict(int)
    images = boxes = 0
    for name in sorted(ours):
        with open(osp.join(ours[name], 'instances.json')) as f:
            a = json.load(f)
        with open(osp.join(official[name], 'instances.json')) as f:
            b = json.load(f)
        stems_a = {img['id']: img['stem'] for img in a['images']}
        stems_b = {img['id']: img['stem'] for img in b['images']}
        if sorted(stems_a.values()) != sorted(stems_b.values()):
            raise AssertionError(f'{name}: different images {stems_a} vs {stems_b}')
        anns_b = {(stems_b[x['image_id']], x['source_index']): x for x in b['annotations']}
        if len(anns_b) != len(a['annotations']):
            raise AssertionError(f'{name}: {len(a["annotations"])} instances (ours) vs '
                                 f'{len(anns_b)} (official)')
        for x in a['annotations']:
            y = anns_b[(stems_a[x['image_id']], x['source_index'])]
            if x['category_id'] != y['category_id']:
                raise AssertionError(f'{name}: class differs for {x["source_index"]}')
            if x['area'] == 0 and y['area'] == 0:
                ious.append(1.0)
            else:
                ious.append(float(mask_utils.iou([x['segmentation']], [y['segmentation']],
                                                 [0])[0, 0]))
            score_diffs.append(abs(x['score'] - y['score']))
        for stem in stems_a.values():
            ga = np.array(Image.open(osp.join(ours[name], 'gray', stem + '.png')))
            gb = np.array(Image.open(osp.join(official[name], 'gray', stem + '.png')))
            pixels += ga.size
            agree += int((ga == gb).sum())
            for value in np.union1d(np.unique(ga), np.unique(gb)):
                if value == 255:
                    continue
                inter[(name, value)] += int(((ga == value) & (gb == value)).sum())
                union[(name, value)] += int(((ga == value) | (gb == value)).sum())
        images += len(stems_a)
        boxes += len(a['annotations'])
    ious = np.array(ious) if ious else np.ones(1)
    class_iou = [inter[k] / union[k] for k in union if union[k]]
    return dict(
        images=images, instances=boxes, mean_iou=float(ious.mean()),
        min_iou=float(ious.min()), identical=float((ious == 1).mean()),
        above_099=float((ious >= 0.99).mean()), above_09=float((ious >= 0.9).mean()),
        max_score_diff=float(max(score_diffs, default=0.0)),
        pixel_agreement=agree / max(pixels, 1),
        label_miou=float(np.mean(class_iou)) if class_iou else 1.0)


# --------------------------------------------------------------------------- report
#: Stages compared by the CPU time of the thread running them (see StageTimer).
CPU_STAGES = ('load', 'prompts', 'paint', 'rle', 'png', 'file_io', 'write_other', 'merge')
#: Where ours runs a stage when not on the main thread (footnote marks).
BACKGROUND = dict(load='¹', prompts='¹', paint='²', rle='²', png='²', file_io='²',
                  write_other='²')


def fmt(value: Optional[float], digits: int = 2) -> str:
    return '—' if value is None else f'{value:.{digits}f}'


def ratio(num: Optional[float], den: Optional[float]) -> str:
    if num is None or den is None or den <= 0 or num <= 0:
        return '—'
    return f'{num / den:.2f}x'


def speed(official: float, ours: float) -> str:
    """'1.25x faster' / '1.10x slower' of ours, from the two times."""
    if official >= ours:
        return f'{official / ours:.2f}x faster'
    return f'{ours / official:.2f}x slower'


def basis(res: dict, key: str) -> Optional[float]:
    """The time a stage is compared by: CPU for the CPU-side stages, else wall."""
    return res['cpu' if key in CPU_STAGES else 'wall'].get(key)


def format_table(spec: dict, res: Dict[str, dict], cmp: dict) -> str:
    """The Markdown report: totals and memory, stages, agreement of the outputs."""
    ours, off = res['ours'], res['official']
    n_img, n_box = cmp['images'], cmp['instances']
    arch = 'tiny (embed 64, depth 2)' if spec['arch'] == 'tiny' else spec['arch']
    weights = (f"checkpoint {osp.basename(spec['checkpoint'])}" if spec['user_checkpoint']
               else 'random weights (seed 0)')
    masks = ("SAM's own masks" if spec['masks'] == 'sam' else
             'object-shaped masks (`--masks box`: the decoder runs, then its logits are '
             'replaced by an ellipse in each prompt box, in both variants)')
    workers = spec['workers'] if spec['workers'] is not None else '2 (config)'
    lines = [
        f"SAM {arch}, {weights}, {masks}; device {spec['device']}, {spec['precision']}; "
        f"{n_img} images, {n_box} boxes. Ours: `configs/gen/*_hbox.py` through Runner + "
        f"GenerationLoop, batch {spec['batch_size'] or '2 (config)'}, {workers} dataloader "
        f"workers, prompt chunk {spec['chunk'] or '64 (config)'}, 2 writer threads; "
        f"official-style: SamPredictor, 1 image per encoder pass, "
        f"{spec['official_chunk']} boxes per predict_torch. torch threads "
        f"{ours['torch_threads']}; load average (1/5/15 min) before {spec['load_before']}, "
        f"after {spec['load_after']}." + (
            f" Median of {spec['repeat']} runs per variant in alternating order; wall time "
            f"per run (s): ours {', '.join(fmt(v, 1) for v in ours['runs_wall_s'])}; "
            f"official {', '.join(fmt(v, 1) for v in off['runs_wall_s'])}."
            if spec['repeat'] > 1 else ''),
        '',
        '| | ours | official-style | ours vs official |',
        '|---|---:|---:|---:|',
        f"| wall time, end to end (s) | {fmt(ours['wall_s'])} | {fmt(off['wall_s'])} | "
        f"{speed(off['wall_s'], ours['wall_s'])} |",
        f"| images/s | {fmt(n_img / ours['wall_s'], 3)} | {fmt(n_img / off['wall_s'], 3)} | "
        f"{ratio(off['wall_s'], ours['wall_s'])} |",
        f"| boxes/s | {fmt(n_box / ours['wall_s'])} | {fmt(n_box / off['wall_s'])} | "
        f"{ratio(off['wall_s'], ours['wall_s'])} |",
        f"| peak RSS, main process (MiB) | {fmt(ours['rss_peak_mib'], 0)} | "
        f"{fmt(off['rss_peak_mib'], 0)} | {ratio(ours['rss_peak_mib'], off['rss_peak_mib'])} "
        'as much |',
        f"| peak RSS, largest dataloader worker (MiB; shares pages with the main process) | "
        f"{fmt(ours['rss_children_peak_mib'] if spec['workers'] != 0 else None, 0)} | — | |",
    ]
    if spec['device'] == 'cuda':
        lines.append(f"| peak GPU memory allocated (MiB) | {fmt(ours.get('cuda_peak_mib'), 0)} | "
                     f"{fmt(off.get('cuda_peak_mib'), 0)} | "
                     f"{ratio(ours.get('cuda_peak_mib'), off.get('cuda_peak_mib'))} as much |")
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
        'untimed rest of its loop (annotation records).',
    ]
    if spec['masks'] == 'box':
        lines.append(f"Making the object-shaped logits took {fmt(ours['wall'].get('substitute'))}"
                     f" s (ours) and {fmt(off['wall'].get('substitute'))} s (official); "
                     'left out of every figure.')
    note = ("SAM's own masks: the official set_image resizes the uint8 image with PIL, ours "
            'resizes it with torch on the device, so the image embeddings differ slightly'
            if spec['masks'] == 'sam' else
            'object-shaped masks: both variants get the same logits, up to the rounding of '
            'the prompt boxes (float64 in ours, float32 in apply_boxes_torch); so this checks '
            "that ours' cropped post-processing, painting and RLE give SAM's full-resolution "
            'masks exactly')
    lines += [
        '',
        f"Agreement of the outputs ({n_box} instances): mask IoU ours vs official mean "
        f"{cmp['mean_iou']:.4f}, min {cmp['min_iou']:.4f}; identical masks "
        f"{100 * cmp['identical']:.1f}%, IoU >= 0.99 {100 * cmp['above_099']:.1f}%, "
        f">= 0.9 {100 * cmp['above_09']:.1f}%; SAM score max |diff| "
        f"{cmp['max_score_diff']:.4f}; label maps: {100 * cmp['pixel_agreement']:.3f}% of "
        f"pixels equal, class mIoU {cmp['label_miou']:.4f} ({note}).",
    ]
    return '\n'.join(lines)


def slower_stages(res: Dict[str, dict], rel: float = 0.05,
                  of_wall: float = 0.001) -> Tuple[List[str], List[str]]:
    """Stages where ours took longer than the official loop by more than a noise margin
    (``rel`` of the official time plus ``of_wall`` of ours' wall time, at least 0.02 s),
    and stages of ours that the official loop does not have."""
    slower, extra = [], []
    margin = max(0.02, of_wall * res['ours']['wall_s'])
    for key, label in STAGES:
        a, b = basis(res['ours'], key), basis(res['official'], key)
        on = 'CPU' if key in CPU_STAGES else 'wall'
        if a is not None and b is None:
            extra.append(f'{label}: {a:.2f} s ({on})')
        elif a is not None and a > b * (1 + rel) + margin:
            slower.append(f'{label}: ours {a:.2f} s, official {b:.2f} s ({on})')
    return slower, extra


# --------------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--arch', choices=ARCHS, default='tiny',
                        help='SAM size; tiny = SAM with a 64-wide, 2-deep image encoder')
    parser.add_argument('--checkpoint', help='SAM weights (.pth); default: random, seed 0')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--precision', choices=('fp32', 'fp16', 'bf16'), default='fp32',
                        help='autocast dtype of SAM, in both variants')
    parser.add_argument('--images', nargs='+', type=Path,
                        help='DOTA- or DIOR-layout images (default: DIOR 00001, DOTA P0706)')
    parser.add_argument('--crops', type=int, default=None,
                        help=f'add this many crops of P0706 (at most {len(P0706_CROPS)}; '
                        'default 3 without --images, else 0)')
    parser.add_argument('--masks', choices=('auto', 'sam', 'box'), default='auto',
                        help="'sam': SAM's own masks; 'box': object-shaped masks from the "
                        "prompt boxes after the real decoder pass; auto: box with random "
                        'weights, sam with a checkpoint')
    parser.add_argument('--batch-size', type=int, help='ours: images per encoder pass '
                        '(default: the config, 2)')
    parser.add_argument('--workers', type=int, help='ours: dataloader workers (default: '
                        'the config, 2)')
    parser.add_argument('--chunk', type=int, help='ours: prompts per decoder call '
                        '(default: the config, 64)')
    parser.add_argument('--official-chunk', type=int, default=20,
                        help='official: boxes per predict_torch call')
    parser.add_argument('--repeat', type=int, default=1,
                        help='runs per variant, in alternating order; the report gives '
                        'medians (times) and maxima (memory)')
    parser.add_argument('--only', choices=('ours', 'official'),
                        help='run one variant only (no comparison; prints its raw result)')
    parser.add_argument('--keep', type=Path, help='keep the outputs in this directory')
    parser.add_argument('--out-md', type=Path, help='also write the report to this file')
    parser.add_argument('--variant', choices=('ours', 'official'), help=argparse.SUPPRESS)
    parser.add_argument('--spec', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load_average() -> str:
    try:
        return ' '.join(f'{v:.2f}' for v in os.getloadavg())
    except OSError:
        return '?'


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.variant:
        variant_main(args.variant, args.spec)
        return 0
    images = args.images or [REALDATA / 'dior' / 'JPEGImages' / '00001.jpg',
                             REALDATA / 'dota' / 'images' / 'P0706.png']
    crops = args.crops if args.crops is not None else (0 if args.images else 3)
    crops = min(max(crops, 0), len(P0706_CROPS))
    masks = args.masks if args.masks != 'auto' else ('sam' if args.checkpoint else 'box')
    tmp = Path(tempfile.mkdtemp(prefix='mmsamrs_bench_gen_'))
    try:
        groups = prepare_data([Path(p).resolve() for p in images], crops, tmp / 'data')
        spec = dict(arch=args.arch, user_checkpoint=args.checkpoint,
                    checkpoint=str(Path(args.checkpoint).resolve()) if args.checkpoint
                    else None, random_checkpoint=str(tmp / f'sam_{args.arch}_random.pth'),
                    device=args.device, precision=args.precision, masks=masks,
                    batch_size=args.batch_size, workers=args.workers, chunk=args.chunk,
                    official_chunk=args.official_chunk, groups=groups, tmp=str(tmp),
                    repeat=max(args.repeat, 1),
                    load_before=load_average())
        env = dict(os.environ)
        if args.device == 'cpu':
            env['CUDA_VISIBLE_DEVICES'] = ''
        runs: Dict[str, List[dict]] = defaultdict(list)
        for rep in range(spec['repeat']):
            # ours first in the first repetition (it saves the random weights), then the
            # order alternates so that a change of the machine's load hits both alike
            order = ('ours', 'official') if rep % 2 == 0 else ('official', 'ours')
            for variant in order:
                if args.only and variant != args.only:
                    continue
                run_id = f'{variant}_{rep}'
                spec['out'] = str(tmp / run_id)
                spec['run_id'] = run_id
                spec_path = tmp / f'spec_{run_id}.json'
                spec_path.write_text(json.dumps(spec))
                log = tmp / f'{run_id}.log'
                print(f"running {variant} ({rep + 1}/{spec['repeat']}) ...", file=sys.stderr,
                      flush=True)
                with open(log, 'w') as f:
                    proc = subprocess.run(
                        [sys.executable, __file__, '--variant', variant, '--spec',
                         str(spec_path)],
                        stdout=f, stderr=subprocess.STDOUT, cwd=str(REPO), env=env)
                if proc.returncode:
                    sys.stderr.write(log.read_text()[-6000:])
                    raise SystemExit(f'{variant} failed (exit {proc.returncode})')
                runs[variant].append(json.loads((tmp / f'result_{run_id}.json').read_text()))
                if spec['checkpoint'] is None and osp.isfile(spec['random_checkpoint']):
                    spec['checkpoint'] = spec['random_checkpoint']  # later runs load it
        results = {variant: merge_runs(r) for variant, r in runs.items()}
        spec['load_after'] = load_average()
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for variant, result in results.items():
                shutil.copytree(osp.dirname(next(iter(result['outputs'].values()))),
                                args.keep / variant, dirs_exist_ok=True)
        if args.only:
            print(json.dumps(results[args.only], indent=1))
            return 0
        comparison = compare_outputs(results['ours']['outputs'],
                                     results['official']['outputs'])
        report = format_table(spec, results, comparison)
        slower, extra = slower_stages(results)
        report += '\n\n' + ('Stages where ours is slower than the official loop (beyond 5% '
                            '+ 0.1% of the wall time): ' + '; '.join(slower) if slower else
                            'Ours is not slower than the official loop in any stage (beyond '
                            '5% + 0.1% of the wall time).')
        if extra:
            report += ('\nWork of ours that the official loop does not do (resume fragments, '
                       'per-instance boxes): ' + '; '.join(extra))
        print(report)
        if args.out_md:
            args.out_md.write_text(report + '\n')
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
