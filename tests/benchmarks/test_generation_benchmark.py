"""benchmarks/generation.py: its data helpers, and one small end-to-end run (tiny SAM, CPU)
checked on the JSON result."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmsamrs.models.sam import resolve_precision

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'benchmarks' / 'generation.py'


def load_data_module():
    """``benchmarks/generation_bench/data.py`` (the benchmarks are scripts, not a package)."""
    path = REPO / 'benchmarks' / 'generation_bench' / 'data.py'
    spec = importlib.util.spec_from_file_location('generation_bench_data', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dota_boxes(path: Path) -> np.ndarray:
    """Corner points ``(N, 4, 2)`` of a DOTA annotation (header lines skipped)."""
    lines = [line.split() for line in path.read_text().splitlines() if len(line.split()) >= 9]
    return np.array([line[:8] for line in lines], float).reshape(-1, 4, 2)


def test_crops_keep_the_objects_inside(tmp_path):
    data = load_data_module()
    groups = data.prepare_data([], [('c', 380, 220, 256, None), ('k', 0, 0, 1024, 5)], 0,
                               tmp_path)
    assert [g['name'] for g in groups] == ['dota']
    labels = tmp_path / 'dota' / 'labelTxt'
    crop = dota_boxes(labels / 'c.txt')
    assert len(crop) > 10 and crop.min() >= 0 and crop.max() < 256
    # the same objects as P0706's that lie wholly inside the crop, shifted
    full = dota_boxes(data.P0706.parent.parent / 'labelTxt' / 'P0706.txt') - (380, 220)
    inside = full[(full.min(axis=(1, 2)) >= 0) & (full.max(axis=(1, 2)) < 256)]
    np.testing.assert_allclose(crop, inside)
    assert len(dota_boxes(labels / 'k.txt')) == 5  # capped
    with Image.open(tmp_path / 'dota' / 'images' / 'k.png') as crop_image:
        assert crop_image.size == (1024, 1024)


def test_tiles_and_jittered_boxes(tmp_path):
    data = load_data_module()
    tiles = data.tile_crops(50)
    assert len(tiles) == 50 and len({(t[1], t[2]) for t in tiles}) == 50
    assert all(t[3] == 256 and t[1] + 256 <= 1111 and t[2] + 256 <= 1182 for t in tiles)
    with pytest.raises(ValueError, match='only 56 tiles'):
        data.tile_crops(57)
    data.prepare_data([], [], 1200, tmp_path)
    boxes = dota_boxes(tmp_path / 'dota' / 'labelTxt' / 'P0706_j1200.txt')
    assert len(boxes) == 1200
    original = dota_boxes(data.P0706.parent.parent / 'labelTxt' / 'P0706.txt')
    np.testing.assert_array_equal(boxes[:len(original)], original)
    copies = boxes[len(original):]  # shifted copies, inside the 1111 x 1182 image
    assert copies.min() >= 0 and copies[..., 0].max() <= 1110 and copies[..., 1].max() <= 1181


def test_unknown_layout_is_named(tmp_path):
    data = load_data_module()
    image = tmp_path / 'pics' / 'x.png'
    with pytest.raises(FileNotFoundError, match=r'x\.png: no annotation found'):
        data.source_of(image)


@pytest.mark.slow
def test_generation_benchmark_runs_both_variants(realdata, tmp_path):
    image = realdata / 'dior' / 'JPEGImages' / '00001.jpg'
    out_json, out_md = tmp_path / 'result.json', tmp_path / 'report.md'
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), '--scenario', 'tiny', '--images', str(image),
         '--tiles', '1', '--agreement', '--out-json', str(out_json), '--out-md', str(out_md)],
        capture_output=True, text=True, cwd=str(REPO), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert out_md.read_text().strip() in proc.stdout
    result = json.loads(out_json.read_text())
    assert result['images'] == 2  # DIOR 00001 and one tile of P0706
    tile = dota_boxes(realdata / 'dota' / 'labelTxt' / 'P0706.txt')
    in_tile = int(((tile.min(axis=(1, 2)) >= 0) & (tile.max(axis=(1, 2)) < 256)).sum())
    assert result['instances'] == 1 + in_tile
    ours, official = result['ours'], result['official']
    # ours runs with the config's default precision, the official loop in fp32
    assert ours['precision'] == resolve_precision('auto', torch.device('cpu'))[0]
    assert official['precision'] == 'fp32'
    for variant in (ours, official):
        assert variant['wall_s'] > 0 and variant['peak_pss_mib'] > 100
        assert variant['wall']['encoder'] > 0 and variant['wall']['decoder'] > 0
        assert sorted(variant['outputs']) == ['dior', 'dota']
    assert result['ratios']['images_per_s'] == pytest.approx(
        official['wall_s'] / ours['wall_s'])
    assert result['ratios']['peak_memory'] == pytest.approx(
        ours['peak_pss_mib'] / official['peak_pss_mib'])
    # --masks box: both variants get the same object-shaped logits (up to their dtype)
    timed = result['agreement']['timed']
    assert timed['instances'] == result['instances'] and timed['mean_iou'] > 0.99
    assert timed['pixel_agreement'] > 0.99
    # --agreement: SAM's own masks, ours (default precision) against fp32
    sam = result['agreement']['sam']
    assert sam['instances'] == result['instances'] and sam['mean_iou'] > 0.8


@pytest.mark.slow
def test_one_variant_writes_its_raw_result(realdata, tmp_path):
    """``--only ours --out-json``: the raw result printed is also written."""
    image = realdata / 'dior' / 'JPEGImages' / '00001.jpg'
    out_json = tmp_path / 'ours.json'
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), '--images', str(image), '--only', 'ours',
         '--out-json', str(out_json)],
        capture_output=True, text=True, cwd=str(REPO), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out_json.read_text())
    assert json.dumps(result, indent=1) in proc.stdout
    assert result['wall']['decoder'] > 0 and sorted(result['outputs']) == ['dior']
