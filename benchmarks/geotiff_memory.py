"""Memory of generation over large GeoTIFF scenes: flat in the scene size and the windows.

Each run writes a synthetic scene (``mmsamrs.testing.geo_scenes``: 3-band ``uint8``,
UTM 33N, tiled and DEFLATE-compressed, written 512 rows at a time, so even a 20,480 x
20,480 scene never sits in memory) with boxes in a GeoPackage in WGS 84, spread over
``object windows`` windows across the whole scene. Then the product path runs on it in a
fresh process: ``configs/gen/geotiff_vector_hbox.py`` through mmengine's ``Runner`` with a
tiny random SAM (CPU), i.e. ``GeoTIFFSceneDataset`` (header and vectors only) ->
``LoadGeoTIFFWindow`` (windowed reads) -> SAM -> ``SAMRSLabelWriter`` per window ->
``GeoSceneExportHook`` (label GeoTIFF of the whole scene written block by block,
GeoPackage and COCO appended window by window). The process reports its resident
memory after the imports and the model build, and its peak (sampled every 20 ms) while
the windows are segmented and while the scene outputs are assembled.

A scene read whole would need ``width x height x 3`` bytes for its pixels alone (1.26 GB
at 20,480 x 20,480); windowed processing needs a window (1024 x 1024 x 3 = 3 MB) plus
one label block. The runs compare two scene sizes with the same windows, and two window
counts on the large scene: the peaks should agree within noise.

Usage::

    python benchmarks/geotiff_memory.py                       # 3 runs, ~5 min on 2 cores
    python benchmarks/geotiff_memory.py --runs 2048:4 4096:4  # quick
    python benchmarks/geotiff_memory.py --out-json geotiff_memory.json
"""
import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, List, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WINDOW, OVERLAP = 1024, 128
TINY_ARCH = dict(embed_dim=64, depth=2, num_heads=2, global_attn_indexes=(1, ))


def object_boxes(size: int, windows: int) -> List[Tuple[int, int, int, int]]:
    """Three boxes in each of ``windows`` cells of the window grid, spread evenly over a
    ``size`` scene in row-major order."""
    step = WINDOW - OVERLAP
    grid = max(1, (size - WINDOW) // step + 1)
    cells = np.unique(np.linspace(0, grid * grid - 1, min(windows, grid * grid)).round())
    boxes = []
    for gx, gy in ((int(c) % grid, int(c) // grid) for c in cells):
        x0, y0 = gx * step, gy * step
        boxes += [(x0 + 200, y0 + 200, x0 + 260, y0 + 240),
                  (x0 + 500, y0 + 300, x0 + 580, y0 + 420),
                  (x0 + 700, y0 + 650, x0 + 760, y0 + 700)]
    return boxes


def write_data(root: Path, size: int, windows: int) -> Dict:
    """Write the scene and its GeoPackage (run in its own process)."""
    from mmsamrs.testing.geo_scenes import write_box_vectors, write_scene
    root.mkdir(parents=True, exist_ok=True)
    boxes = object_boxes(size, windows)
    start = time.perf_counter()
    write_scene(str(root / 'scene.tif'), size, size, boxes)
    write_box_vectors(str(root / 'boxes.gpkg'), boxes, ['car'] * len(boxes), driver='GPKG')
    return dict(boxes=len(boxes), write_s=round(time.perf_counter() - start, 1),
                file_mb=round((root / 'scene.tif').stat().st_size / 2**20, 1))


def peak_mb() -> float:
    """Peak resident memory of this process so far (MiB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RSSSampler(threading.Thread):
    """Samples this process's resident memory every 20 ms; keeps the peak per phase."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.phase = 'windows'
        self.peaks: Dict[str, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            with open('/proc/self/status') as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith('VmRSS'))
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss / 1024)
            time.sleep(0.02)


def generate(root: Path, masks: str) -> Dict:
    """Run the product path on ``root`` (in its own process); its memory and time."""
    import mmsamrs  # noqa: F401  (its compatibility fixes come before segment_anything)
    from mmengine.config import Config
    from mmengine.runner import Runner
    if masks == 'box':
        from generation_bench.sam_hooks import install_box_masks
        install_box_masks(SimpleNamespace(section=lambda stage: contextlib.nullcontext()))
    config = root / 'gen.py'
    config.write_text(f"""_base_ = [{str(REPO / 'configs/gen/geotiff_vector_hbox.py')!r}]
model = dict(arch={TINY_ARCH!r}, checkpoint=None, precision='fp32', prompt_chunk_size=16)
test_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(
    data_root={str(root)!r}, scenes=[dict(img_path='scene.tif', ann_path='boxes.gpkg')],
    class_field='class', window_size={WINDOW}, overlap={OVERLAP},
    metainfo=dict(classes=('car', ))))
log_level = 'WARNING'
""")
    cfg = Config.fromfile(str(config))
    cfg.work_dir = str(root / 'work')
    cfg.experiment_name = uuid.uuid4().hex
    runner = Runner.from_cfg(cfg)
    after_setup = peak_mb()
    hook = next(h for h in runner.hooks if type(h).__name__ == 'GeoSceneExportHook')
    sampler = RSSSampler()
    export = hook.after_test_epoch

    def assemble(*args, **kwargs):
        sampler.phase = 'assembly'
        start = time.perf_counter()
        export(*args, **kwargs)
        sampler.phase = 'done'
        times['assembly'] = time.perf_counter() - start

    hook.after_test_epoch = assemble
    times: Dict[str, float] = {}
    sampler.start()
    start = time.perf_counter()
    runner.test()
    sampler.running = False
    sampler.join()
    (scene, ) = hook.report.values()
    return dict(windows=scene['windows'], polygons=scene['polygons'],
                generate_s=round(time.perf_counter() - start, 1),
                assembly_s=round(times['assembly'], 1),
                setup_peak_mb=round(after_setup, 1),
                windows_peak_mb=round(sampler.peaks['windows'], 1),
                assembly_peak_mb=round(sampler.peaks['assembly'], 1),
                peak_mb=round(peak_mb(), 1))


def run_child(*args: str) -> Dict:
    """Run this script in a fresh process for one step; return its JSON answer."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, __file__, *args], check=True, env=env,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', nargs='+', default=['5120:16', '20480:16', '20480:64'],
                        help='SIZE:OBJECT_WINDOWS per run (square scenes)')
    parser.add_argument('--work-dir', help='where scenes are written (default: a temp dir)')
    parser.add_argument('--out-json', help='write the results here')
    parser.add_argument('--masks', choices=('box', 'sam'), default='box',
                        help="'box': the real (tiny, random) SAM decoder runs, then its "
                        'logits become the ellipse in each prompt box (as in '
                        "benchmarks/generation.py); 'sam': the random SAM's own noisy, "
                        'window-wide masks (polygonising them dominates the time)')
    parser.add_argument('--step', nargs=2, metavar=('STEP', 'DIR'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # a child process: one step
        step, root = args.step
        if step == 'generate':
            print(json.dumps(generate(Path(root), args.masks)))
        else:
            size, windows = map(int, step.split(':'))
            print(json.dumps(write_data(Path(root), size, windows)))
        return

    rows = []
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        for spec in args.runs:
            size, _ = map(int, spec.split(':'))
            root = Path(tmp) / spec.replace(':', '_')
            row = dict(scene=f'{size}x{size}', whole_scene_mb=round(size * size * 3 / 2**20))
            row.update(run_child('--step', spec, str(root)))
            row.update(run_child('--step', 'generate', str(root), '--masks', args.masks))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print('\n| scene | GeoTIFF (MiB) | its pixels (MiB) | windows | polygons | after setup '
          '| peak: windows (SAM) | peak: scene assembly | run (s) | assembly (s) |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['scene']} | {r['file_mb']} | {r['whole_scene_mb']} | {r['windows']} | "
              f"{r['polygons']} | {r['setup_peak_mb']} | {r['windows_peak_mb']} | "
              f"{r['assembly_peak_mb']} | {r['generate_s']} | {r['assembly_s']} |")
    print('Memory: resident MiB of the generating process (peak per phase).')
    if args.out_json:
        Path(args.out_json).write_text(json.dumps(rows, indent=1) + '\n')


if __name__ == '__main__':
    main()
