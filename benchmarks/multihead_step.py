"""Training-step time of the multi-head segmentor against its two alternatives.

One step = forward, backward and AdamW update on the same mixed batch of SOTA/SIOR/FAST
samples (default 2/2/8 of 12, SAMRS's proportions) for:

* ``single-head``: a plain mmseg ``EncoderDecoder`` with one 37-class classifier (the cost
  floor: one trunk pass, one classifier);
* ``multi-head``: :class:`~mmsamrs.models.segmentors.MultiHeadEncoderDecoder`, one trunk
  pass, then each set's classifier and loss on its own samples;
* ``three passes``: the official SAMRS code's way, the same multi-head model run once per
  set's sub-batch (three trunk passes), losses summed, one backward.

Targets: multi-head at most 1.05x single-head, and faster than three passes.
Usage: ``python benchmarks/multihead_step.py [--device cuda] [--size 224] [--batch 2 2 8]``.
The default (UperNet on a half-width ResNet-18, 96 px) runs in about a minute on 2 CPU
cores; steps of the three variants alternate (rotating order), and medians are reported.
"""
import argparse
import copy
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.structures import SegDataSample

from mmsamrs.models.segmentors import MultiHeadEncoderDecoder

SETS = dict(SOTA=18, SIOR=20, FAST=37)
Batch = Tuple[torch.Tensor, List[SegDataSample]]


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--batch', type=int, nargs=3, default=(2, 2, 8),
                        metavar=('SOTA', 'SIOR', 'FAST'), help='samples per set')
    parser.add_argument('--size', type=int, default=96, help='input side in pixels')
    parser.add_argument('--width', type=int, default=32, help='ResNet-18 base channels')
    parser.add_argument('--channels', type=int, default=64, help='UperNet channels')
    parser.add_argument('--steps', type=int, default=9, help='timed steps per variant')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps per variant')
    return parser.parse_args()


def model_cfg(args: argparse.Namespace) -> dict:
    """UperNet (+ FCN auxiliary head) on a ResNetV1c-18 of the given widths."""
    norm = dict(type='BN', requires_grad=True)
    widths = [args.width * 2**i for i in range(4)]
    return dict(
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=args.width,
                      base_channels=args.width, out_indices=(0, 1, 2, 3), norm_cfg=norm),
        decode_head=dict(type='UPerHead', in_channels=widths, in_index=[0, 1, 2, 3],
                         pool_scales=(1, 2, 3, 6), channels=args.channels, dropout_ratio=0.1,
                         norm_cfg=norm, align_corners=False),
        auxiliary_head=dict(type='FCNHead', in_channels=widths[2], in_index=2,
                            channels=args.channels // 2, num_convs=1, concat_input=False,
                            dropout_ratio=0.1, norm_cfg=norm, align_corners=False,
                            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
        test_cfg=ConfigDict(mode='whole'))


def mixed_batch(args: argparse.Namespace) -> Batch:
    """Random images and labels, set by set (as ``ProportionalMultiSourceSampler`` gives)."""
    gen = torch.Generator().manual_seed(0)
    names = [name for name, n in zip(SETS, args.batch) for _ in range(n)]
    inputs = torch.randn(len(names), 3, args.size, args.size, generator=gen)
    samples = []
    for name in names:
        sample = SegDataSample(metainfo=dict(dataset_name=name))
        label = torch.randint(0, SETS[name], (1, args.size, args.size), generator=gen)
        sample.gt_sem_seg = PixelData(data=label.to(args.device))
        samples.append(sample)
    return inputs.to(args.device), samples


def sub_batches(batch: Batch) -> List[Batch]:
    """The mixed batch split into one sub-batch per set (the official code's input)."""
    inputs, samples = batch
    out = []
    for name in SETS:
        idx = [i for i, s in enumerate(samples) if s.dataset_name == name]
        out.append((inputs[idx], [samples[i] for i in idx]))
    return out


def step_fn(model: torch.nn.Module, batches: List[Batch]) -> Callable[[], None]:
    """One training step: losses of every batch, summed as mmengine does, one update."""
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-4))

    def step() -> None:
        losses: Dict[str, torch.Tensor] = {}
        for inputs, samples in batches:
            losses.update(model.loss(inputs, samples))
        loss, _ = model.parse_losses(losses)
        optim.update_params(loss)

    return step


def main() -> None:
    """Build the models, alternate their steps, print medians and ratios."""
    args = parse_args()
    torch.manual_seed(0)
    cfg = model_cfg(args)
    width = max(SETS.values())
    single = EncoderDecoder(**dict(
        copy.deepcopy(cfg), decode_head=dict(cfg['decode_head'], num_classes=width),
        auxiliary_head=dict(cfg['auxiliary_head'], num_classes=width)))
    multi = MultiHeadEncoderDecoder(heads=SETS, **copy.deepcopy(cfg))
    for model in (single, multi):  # PyTorch's default initialisation: timing only
        model.to(args.device).train()
    batch = mixed_batch(args)
    variants = {
        'single-head EncoderDecoder (37 classes)': (1, step_fn(single, [batch])),
        'MultiHeadEncoderDecoder': (1, step_fn(multi, [batch])),
        'three sub-batch passes (official code)': (3, step_fn(multi, sub_batches(batch))),
    }
    sync = torch.cuda.synchronize if args.device.startswith('cuda') else (lambda: None)
    times: Dict[str, List[float]] = {name: [] for name in variants}
    order = list(variants.items())
    for i in range(args.warmup + args.steps):
        for name, (_, step) in order[i % 3:] + order[:i % 3]:  # rotate: no fixed position
            sync()
            start = time.perf_counter()
            step()
            sync()
            if i >= args.warmup:
                times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    base, multi_ms, three_ms = medians.values()
    device = torch.cuda.get_device_name() if args.device.startswith('cuda') else \
        f'cpu, {torch.get_num_threads()} threads'
    print(f'device: {device}; batch {dict(zip(SETS, args.batch))} at {args.size} px; '
          f'UperNet + FCN aux on ResNetV1c-18 (base {args.width}, decoder {args.channels}); '
          f'median of {args.steps} steps (forward + backward + AdamW)\n')
    print('| variant | trunk passes | step (ms) | vs single-head |')
    print('|---|---|---|---|')
    for name, (passes, _) in variants.items():
        print(f'| {name} | {passes} | {medians[name]:.1f} | {medians[name] / base:.3f}x |')
    print(f'\nmulti-head / single-head = {multi_ms / base:.3f}x (target <= 1.05x: '
          f'{"met" if multi_ms <= 1.05 * base else "NOT met"})')
    print(f'multi-head / three passes = {multi_ms / three_ms:.3f}x (target < 1: '
          f'{"met" if multi_ms < three_ms else "NOT met"})')


if __name__ == '__main__':
    main()
