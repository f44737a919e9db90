"""SAMRS label generation, end to end: ours against the official SAM loop.

Both variants take the same images, the same detection boxes (read by the same mmsamrs
source reader) and the same SAM weights, and write a label PNG, a colour PNG per image and
a COCO JSON per run:

* ``ours``: the product with its default settings. For each source (DIOR, DOTA) a config
  inheriting ``configs/gen/<source>_hbox.py`` runs through mmengine's ``Runner`` and
  mmsamrs' ``GenerationLoop``: dataset -> pipeline in dataloader workers ->
  ``SAMDataPreprocessor`` -> ``SAMGenerator`` (precision ``'auto'``: bf16 where the device
  computes it natively; SDPA attention; batched image encoder; chunked prompt decoder;
  cropped post-processing) -> ``SAMRSLabelWriter`` in background threads ->
  ``instances.json``. Only the data root and the SAM size/weights are overridden (and
  ``overlap_policy='last'``, annotation order as in the official loop, so that the label
  maps are comparable); ``--precision``, ``--batch-size``, ``--workers``, ``--chunk``
  override the config's settings.
* ``official``: the loop of the official SAMRS/SAM scripts, as published: per image
  ``cv2.imread``, ``SamPredictor.set_image`` (one image per encoder pass) in fp32, then
  ``predict_torch`` on chunks of 20 boxes (``multimask_output=False``; masks
  post-processed to full resolution by SAM), each mask painted into the label map and
  RLE-encoded with pycocotools on the full mask; PNGs per image, one JSON at the end.

Scenarios (``--scenario``): ``tiny``, the quick one (SAM with a 64-wide, 2-deep image
encoder; DIOR 00001, DOTA P0706 with its 536 boxes and 3 small crops of it), where the mask
decoder dominates; ``vit_b``, the real-size one (SAM ViT-B, random weights of the released
model's size; DIOR 00001 and 3 1024 px crops of P0706, 40 of their real boxes each), where
the image encoder dominates. ``--tiles N`` adds N 256 px tiles of P0706 and
``--jitter-boxes N`` P0706 with its boxes plus jittered copies up to N (memory checks).

Each variant runs in its own subprocess: its peak memory is the largest sum of PSS over
its process tree (main process with writer threads, dataloader workers), sampled every
0.1 s during the timed loops, and its CPU time covers all its threads and processes. Stage
times come from timers that this script wraps around library functions (no library code
is changed; see ``generation_bench/timing.py``). Setup (building the model, reading
annotations, Runner construction) and one warm-up SAM call are not timed.

Masks (``--masks``): a SAM with random weights paints every mask over most of the image,
which no trained SAM does, and which makes every mask-sized stage image-sized. So without a
checkpoint the timed runs use ``box``: the real mask decoder runs (its cost is measured),
then its logits are replaced by smooth logits positive inside the ellipse inscribed in each
prompt box, in both variants alike. ``--masks sam`` keeps SAM's own masks (the default with
``--checkpoint``). ``--agreement`` (on in the ``vit_b`` scenario) runs both variants once
more with SAM's own masks and compares them (:mod:`mmsamrs.analysis.compare_runs`): mask
IoU and label-map agreement of ours, default settings, against the official fp32 loop.

Usage::

    python benchmarks/generation.py                    # tiny SAM, CPU: a few minutes
    python benchmarks/generation.py --scenario vit_b   # the headline table
    python benchmarks/generation.py --scenario vit_b --arch vit_h \\
        --checkpoint sam_vit_h_4b8939.pth --device cuda --batch-size 4 --chunk 64
    python benchmarks/generation.py --images tests/data/dior/JPEGImages/00001.jpg

``--out-json`` writes the whole result (settings, both variants' times and memory, the
agreement, the ratios); ``--out-md`` the Markdown report that is printed.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

from generation_bench.data import REPO, SCENARIOS, prepare_data, tile_crops
from generation_bench.report import format_report
from generation_bench.variants import merge_runs, variant_main

VARIANTS = ('ours', 'official')


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--scenario', choices=tuple(SCENARIOS), default='tiny',
                        help='tiny: quick, tiny SAM; vit_b: SAM ViT-B on 1024 px crops')
    parser.add_argument('--arch',
                        help="model: tiny or a released model.arch name, SAM vit_b/l/h, "
                        "HQ-SAM hq_vit_b/l/h, SAM 2.1 sam2.1_hiera_t/s/b+/l (default: the "
                        "scenario's); the official loop is SAM's, so HQ-SAM and SAM 2.1 "
                        'run with --only ours')
    parser.add_argument('--checkpoint', help='SAM weights (.pth); default: random, seed 0')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--precision', choices=('auto', 'fp32', 'fp16', 'bf16'),
                        help="ours: model.precision (default: the config's, 'auto')")
    parser.add_argument('--official-precision', choices=('fp32', 'fp16', 'bf16'),
                        default='fp32', help='official loop: autocast dtype (published: fp32)')
    parser.add_argument('--images', nargs='*', type=Path,
                        help="DOTA- or DIOR-layout images (default: the scenario's; none "
                        'with an empty --images)')
    parser.add_argument('--crops', type=int, default=None,
                        help="this many of the scenario's crops of P0706 (default: 3 "
                        'without --images, else 0)')
    parser.add_argument('--tiles', type=int, default=0,
                        help='add this many 256 px tiles of P0706 (stride 128)')
    parser.add_argument('--jitter-boxes', type=int, default=0,
                        help='add P0706 with its boxes plus jittered copies up to this many')
    parser.add_argument('--masks', choices=('auto', 'sam', 'box'), default='auto',
                        help="timed runs: 'sam', SAM's own masks; 'box', object-shaped "
                        'masks from the prompt boxes after the real decoder pass; auto: box '
                        'with random weights, sam with a checkpoint')
    parser.add_argument('--agreement', action=argparse.BooleanOptionalAction, default=None,
                        help="also run both variants with SAM's own masks and compare them "
                        '(default: on in the vit_b scenario)')
    parser.add_argument('--batch-size', type=int, help='ours: images per encoder pass '
                        '(default: the config, 2)')
    parser.add_argument('--workers', type=int, help='ours: dataloader workers (default: '
                        'the config, 2)')
    parser.add_argument('--chunk', type=int, help='ours: prompts per decoder call '
                        '(default: the config, 4)')
    parser.add_argument('--official-chunk', type=int, default=20,
                        help='official: boxes per predict_torch call')
    parser.add_argument('--repeat', type=int, default=1,
                        help='runs per variant, in alternating order; the report gives '
                        'medians (times) and maxima (memory)')
    parser.add_argument('--only', choices=VARIANTS,
                        help='run one variant only (no comparison; prints its raw result, '
                        'which --out-json writes)')
    parser.add_argument('--keep', type=Path, help='keep the outputs in this directory')
    parser.add_argument('--out-md', type=Path, help='also write the report to this file')
    parser.add_argument('--out-json', type=Path, help='also write the result to this file')
    parser.add_argument('--variant', choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument('--spec', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    try:
        return ' '.join(f'{v:.2f}' for v in os.getloadavg())
    except OSError:
        return '?'


def run_variants(spec: dict, masks: str, tag: str, only=None) -> Dict[str, dict]:
    """Run each variant ``spec['repeat']`` times in subprocesses (alternating order) with
    ``masks``; the merged result per variant."""
    tmp = Path(spec['tmp'])
    env = dict(os.environ)
    if spec['device'] == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    runs: Dict[str, List[dict]] = defaultdict(list)
    for rep in range(spec['repeat']):
        # ours first in the first repetition (it saves the random weights), then the order
        # alternates so that a change of the machine's load hits both alike
        for variant in VARIANTS if rep % 2 == 0 else VARIANTS[::-1]:
            if only and variant != only:
                continue
            run_id = f'{tag}_{variant}_{rep}'
            run_spec = dict(spec, masks=masks, run_id=run_id, out=str(tmp / run_id))
            spec_path = tmp / f'spec_{run_id}.json'
            spec_path.write_text(json.dumps(run_spec))
            log = tmp / f'{run_id}.log'
            print(f"running {variant} ({tag}, {rep + 1}/{spec['repeat']}) ...",
                  file=sys.stderr, flush=True)
            with open(log, 'w') as f:
                proc = subprocess.run(
                    [sys.executable, __file__, '--variant', variant, '--spec', str(spec_path)],
                    stdout=f, stderr=subprocess.STDOUT, cwd=str(REPO), env=env)
            if proc.returncode:
                sys.stderr.write(log.read_text()[-6000:])
                raise SystemExit(f'{variant} failed (exit {proc.returncode})')
            runs[variant].append(json.loads((tmp / f'result_{run_id}.json').read_text()))
            if spec['checkpoint'] is None and osp.isfile(spec['random_checkpoint']):
                spec['checkpoint'] = spec['random_checkpoint']  # later runs load it
    return {variant: merge_runs(r) for variant, r in runs.items()}


def compare(results: Dict[str, dict]) -> dict:
    """Agreement of ours' and the official outputs, pooled over the source groups."""
    from mmsamrs.analysis.compare_runs import RunComparison
    comparison = RunComparison()
    for group, ours in sorted(results['ours']['outputs'].items()):
        comparison.add(ours, results['official']['outputs'][group])
    return comparison.summary()


def check_arch(arch: str, only: Optional[str]) -> None:
    """Exit with a message for an unknown arch, or a family the official loop cannot run
    (it is ``segment_anything``'s) without ``--only ours``."""
    import mmsamrs  # noqa: F401  (compatibility fixes first)
    from mmsamrs.models.sam import SAMBackend, build_backend
    if arch == 'tiny':
        return
    try:
        backend = build_backend(arch)
    except ValueError as err:
        raise SystemExit(f'--arch: {err}') from None
    if type(backend) is not SAMBackend and only != 'ours':
        raise SystemExit(f"--arch {arch}: the official loop runs SAM (segment_anything) "
                         'only; add --only ours')


def main(argv=None) -> int:
    """Run the benchmark; print (and write) its report."""
    args = parse_args(argv)
    if args.variant:
        variant_main(args.variant, args.spec)
        return 0
    scenario = SCENARIOS[args.scenario]
    check_arch(args.arch or scenario['arch'], args.only)
    images = scenario['images'] if args.images is None else args.images
    num_crops = args.crops if args.crops is not None else (
        0 if args.images is not None else scenario['num_crops'])
    crops = scenario['crops'][:max(num_crops, 0)] + tile_crops(args.tiles)
    masks = args.masks if args.masks != 'auto' else ('sam' if args.checkpoint else 'box')
    agreement = args.agreement if args.agreement is not None else args.scenario == 'vit_b'
    tmp = Path(tempfile.mkdtemp(prefix='mmsamrs_bench_gen_'))
    try:
        arch = args.arch or scenario['arch']
        spec = dict(
            scenario=args.scenario, arch=arch, user_checkpoint=args.checkpoint,
            checkpoint=str(Path(args.checkpoint).resolve()) if args.checkpoint else None,
            random_checkpoint=str(tmp / f'sam_{arch}_random.pth'), device=args.device,
            precision=args.precision, official_precision=args.official_precision,
            masks=masks, batch_size=args.batch_size, workers=args.workers, chunk=args.chunk,
            official_chunk=args.official_chunk, tmp=str(tmp), repeat=max(args.repeat, 1),
            groups=prepare_data([Path(p).resolve() for p in images], crops,
                                args.jitter_boxes, tmp / 'data'),
            load_before=load_average())
        results = run_variants(spec, masks, 'timed', args.only)
        if args.keep:
            for variant, result in results.items():
                for group, out in result['outputs'].items():
                    shutil.copytree(out, args.keep / variant / group, dirs_exist_ok=True)
        if args.only:
            raw = json.dumps(results[args.only], indent=1)
            print(raw)
            if args.out_json:
                args.out_json.write_text(raw + '\n')
            return 0
        timed = compare(results)
        result = dict(spec=spec, ours=results['ours'], official=results['official'],
                      images=timed['images'], instances=timed['instances'],
                      agreement=dict(timed=timed))
        if agreement:
            result['agreement']['sam'] = compare(run_variants(dict(spec, repeat=1), 'sam',
                                                              'agreement'))
        spec['load_after'] = load_average()
        ours, off = results['ours'], results['official']
        result['ratios'] = dict(
            images_per_s=off['wall_s'] / ours['wall_s'],
            peak_memory=ours['peak_pss_mib'] / off['peak_pss_mib'],
            cpu_time=sum(ours['process_cpu_s']) / sum(off['process_cpu_s']))
        report = format_report(result)
        print(report)
        if args.out_md:
            args.out_md.write_text(report + '\n')
        if args.out_json:
            args.out_json.write_text(json.dumps(result, indent=1) + '\n')
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
