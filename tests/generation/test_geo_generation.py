"""End to end: a UTM GeoTIFF scene with WGS 84 boxes in a GeoPackage, generated with a
tiny random SAM through the Runner (configs/gen/geotiff_vector_hbox.py), outputs read
back with rasterio and pyogrio; resuming rewrites the same scene outputs; two processes
share the windows of the real DSM sample."""
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from mmengine.runner import Runner
from PIL import Image
from rasterio.features import rasterize

from mmsamrs.testing import TINY_SAM_ARCH
from mmsamrs.testing.generation import run_generation
from mmsamrs.testing.geo_scenes import SCENE_CRS, SCENE_TRANSFORM, write_box_vectors, write_scene

REPO = Path(__file__).resolve().parents[2]
#: Objects of the 600 x 500 scene (pixels); some cross the 256-pixel window borders.
BOXES = [(20, 30, 80, 70), (230, 40, 290, 90), (240, 230, 300, 280), (400, 300, 470, 350),
         (520, 440, 590, 495), (100, 380, 160, 420)]
CLASSES = ['car', 'ship', 'car', 'ship', 'car', 'ship']


def make_scene(root: Path) -> Path:
    root.mkdir()
    write_scene(str(root / 'scene.tif'), 600, 500, BOXES)
    write_box_vectors(str(root / 'boxes.gpkg'), BOXES, CLASSES, driver='GPKG')
    return root


def run(tmp_path: Path, data_root: Path, work_dir: Path, resume: bool = False) -> Runner:
    config = tmp_path / f'geo_{uuid.uuid4().hex[:8]}.py'
    config.write_text(f"""_base_ = [{str(REPO / 'configs' / 'gen' / 'geotiff_vector_hbox.py')!r}]
model = dict(arch={TINY_SAM_ARCH!r}, checkpoint=None, prompt_chunk_size=8, precision='fp32')
classes = ('car', 'ship')
test_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(
    data_root={str(data_root)!r}, scenes=[dict(img_path='scene.tif', ann_path='boxes.gpkg')],
    class_field='class', window_size=256, overlap=96, metainfo=dict(classes=classes)))
custom_hooks = [dict(type='GeoSceneExportHook', block_size=256)]
log_level = 'WARNING'
""")
    return run_generation(config, work_dir, resume)


def test_geotiff_gpkg_scene_end_to_end_and_resume(tmp_path):
    data = make_scene(tmp_path / 'data')
    work = tmp_path / 'work'
    runner = run(tmp_path, data, work)
    summary = runner.test_loop.summary
    windows = runner.test_loop.dataloader.dataset.dataset.scenes[0]['windows']
    assert summary['images']['done'] == len(windows) >= 4
    assert summary['images']['failed'] == 0 and summary['instances']['total'] == 6
    geo = work / 'geo'

    with rasterio.open(geo / 'scene.tif') as out, rasterio.open(data / 'scene.tif') as src:
        assert out.crs == src.crs == rasterio.crs.CRS.from_user_input(SCENE_CRS)
        assert out.transform == src.transform == SCENE_TRANSFORM
        assert (out.count, out.width, out.height, out.nodata) == (1, 600, 500, 255)
        labels = out.read(1)
    # the raster is the windows' label PNGs put back at their scene positions
    composite = np.full((500, 600), 255, np.uint8)
    for img_id, x0, y0, w, h in windows:
        window = np.asarray(Image.open(work / 'gray' / f'{img_id}.png'))
        assert window.shape == (h, w)
        composite[y0:y0 + h, x0:x0 + w][window != 255] = window[window != 255]
    np.testing.assert_array_equal(labels, composite)
    assert set(np.unique(labels)) <= {0, 1, 255} and (labels != 255).any()

    meta, _, wkb, fields = pyogrio.raw.read(geo / 'scene.gpkg')
    assert pyogrio.read_info(geo / 'scene.gpkg')['crs'] == SCENE_CRS
    polygons = shapely.from_wkb(wkb)
    assert shapely.is_valid(polygons).all()
    left, bottom, right, top = rasterio.transform.array_bounds(500, 600, SCENE_TRANSFORM)
    assert shapely.box(left, bottom, right, top).contains(shapely.union_all(polygons))
    # every pixel painted with a class is covered by an output polygon of that class
    for label, name in enumerate(('car', 'ship')):
        shapes = [g for g, c in zip(polygons, fields[0]) if c == name]
        if shapes:
            covered = rasterize(shapes, out_shape=(500, 600), transform=SCENE_TRANSFORM)
            assert covered[labels == label].all()
        else:
            assert not (labels == label).any()
    coco = json.loads((geo / 'instances.json').read_text())
    assert coco['images'][0]['file_name'] == 'scene.tif'
    assert len(coco['annotations']) == len(polygons)
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        assert 0 <= x and x + w <= 600 and 0 <= y and y + h <= 500

    # an interrupted run: one window lost; resuming redoes it only and rewrites the scene
    first = {name: (geo / name).read_bytes() for name in ('instances.json', )}
    lost = windows[-1][0]
    (work / 'instances' / f'{lost}.json').unlink()
    (work / 'gray' / f'{lost}.png').unlink()
    shutil.rmtree(geo)
    resumed = run(tmp_path, data, work, resume=True).test_loop.summary
    assert resumed['images']['new'] == 1 and resumed['images']['skipped'] == len(windows) - 1
    with rasterio.open(geo / 'scene.tif') as out:
        np.testing.assert_array_equal(out.read(1), labels)
    assert (geo / 'instances.json').read_bytes() == first['instances.json']
    assert pyogrio.read_info(geo / 'scene.gpkg')['features'] == len(polygons)


@pytest.mark.slow
def test_two_processes_share_the_windows_of_a_real_scene(realdata, tmp_path):
    """The real UTM DSM with its WGS 84 footprints, via tools/generate_masks.py: two
    processes (gloo) split the windows, and the scene outputs equal a one-process run."""
    config = tmp_path / 'geo_real.py'
    config.write_text(f"""_base_ = [{str(REPO / 'configs' / 'gen' / 'geotiff_vector_hbox.py')!r}]
model = dict(arch={TINY_SAM_ARCH!r}, checkpoint=None, prompt_chunk_size=8, precision='fp32')
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(
    data_root={str(realdata / 'geo')!r}, window_size=128, overlap=64))
custom_imports = dict(imports=['mmsamrs', 'mmsamrs.testing.generation'])
custom_hooks = [dict(type='GeoSceneExportHook'), dict(type='RecordProcessedImages')]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
""")
    env = dict(os.environ, OMP_NUM_THREADS='1')
    tool = [str(REPO / 'tools' / 'generate_masks.py'), str(config), '--work-dir']
    one = subprocess.run([sys.executable, *tool, str(tmp_path / 'one')], env=env,
                         capture_output=True, text=True, cwd=str(REPO), timeout=900)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         '--master_port=29531', *tool, str(tmp_path / 'two'), '--launcher', 'pytorch'],
        env=env, capture_output=True, text=True, cwd=str(REPO), timeout=900)
    assert two.returncode == 0, two.stdout[-3000:] + two.stderr[-3000:]
    per_rank = [(tmp_path / 'two' / f'processed_rank{r}.txt').read_text().split()
                for r in (0, 1)]
    assert all(per_rank) and not set(per_rank[0]) & set(per_rank[1])
    done = json.loads((tmp_path / 'one' / 'summary.json').read_text())['images']['done']
    assert len(per_rank[0] + per_rank[1]) == done
    with rasterio.open(tmp_path / 'one' / 'geo' / 'dsm.tif') as a, \
            rasterio.open(tmp_path / 'two' / 'geo' / 'dsm.tif') as b:
        assert a.crs.to_epsg() == b.crs.to_epsg() == 26918 and a.transform == b.transform
        np.testing.assert_array_equal(a.read(1), b.read(1))
    assert (tmp_path / 'one' / 'geo' / 'instances.json').read_bytes() == \
        (tmp_path / 'two' / 'geo' / 'instances.json').read_bytes()
