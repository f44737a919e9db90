"""GeoSceneWriter on hand-made window results: label raster, polygons and scene COCO in
the scene's frame, checked by reading them back with rasterio and pyogrio."""
import json

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine

from mmsamrs.generation import GeoSceneWriter, SAMRSLabelWriter
from mmsamrs.testing.geo_scenes import SCENE_CRS, SCENE_TRANSFORM

CLASSES = ('car', 'ship')
PALETTE = [[255, 0, 0], [0, 0, 255]]
#: A 600 x 400 scene cut into two overlapping windows.
WINDOWS = [('s_0_0', 0, 0, 400, 400), ('s_200_0', 200, 0, 400, 400)]


def window_result(img_id, boxes, labels):
    """A writer result whose masks are exactly the (window-pixel) boxes."""
    crops = [np.ones((y2 - y1, x2 - x1), bool) for x1, y1, x2, y2 in boxes]
    return dict(img_id=img_id, img_path='/scenes/s.tif', ori_shape=(400, 400), error=None,
                labels=np.array(labels), scores=np.full(len(boxes), 0.9),
                hboxes=np.array(boxes, np.float32).reshape(-1, 4), rboxes=None,
                mask_crops=crops, mask_offsets=np.array([b[:2] for b in boxes]).reshape(-1, 2))


def scene(windows=WINDOWS):
    from pyproj import CRS
    return dict(scene_id='s', img_path='/scenes/s.tif', crs=CRS(SCENE_CRS).to_wkt(),
                transform=tuple(SCENE_TRANSFORM)[:6], width=600, height=400,
                windows=list(windows))


@pytest.fixture
def run_dir(tmp_path):
    """Two windows done: a car at scene (10..50, 20..60), a ship at scene (380..420,
    100..140) in the overlap written by window 2, which also has a car at (550..600,
    350..400) on the scene corner."""
    writer = SAMRSLabelWriter(str(tmp_path), CLASSES, PALETTE)
    assert writer.write(window_result('s_0_0', [(10, 20, 50, 60)], [0])) is None
    assert writer.write(window_result('s_200_0', [(180, 100, 220, 140), (350, 350, 400, 400)],
                                      [1, 0])) is None
    return tmp_path


def test_label_raster_is_georeferenced_and_painted(run_dir):
    GeoSceneWriter(str(run_dir), CLASSES, PALETTE, block_size=256).write([scene()])
    with rasterio.open(run_dir / 'geo' / 's.tif') as src:
        assert src.crs == rasterio.crs.CRS.from_user_input(SCENE_CRS)
        assert src.transform == SCENE_TRANSFORM
        assert (src.count, src.width, src.height, src.nodata) == (1, 600, 400, 255)
        assert src.dtypes == ('uint8', ) and src.profile['tiled']
        assert src.block_shapes == [(256, 256)]
        assert src.compression == rasterio.enums.Compression.deflate
        assert src.colormap(1)[1][:3] == (0, 0, 255)
        labels = src.read(1)
    expected = np.full((400, 600), 255, np.uint8)
    expected[20:60, 10:50] = 0
    expected[100:140, 380:420] = 1
    expected[350:400, 550:600] = 0
    np.testing.assert_array_equal(labels, expected)


def test_polygons_and_coco_in_the_scene_frame(run_dir):
    report = GeoSceneWriter(str(run_dir), CLASSES, PALETTE, img_root='/scenes').write([scene()])
    assert report == {'s': dict(windows=2, done=2, missing=0, polygons=3)}
    info = pyogrio.read_info(run_dir / 'geo' / 's.gpkg')
    assert info['crs'] == 'EPSG:32633' and info['geometry_type'] == 'MultiPolygon'
    meta, _, wkb, fields = pyogrio.raw.read(run_dir / 'geo' / 's.gpkg')
    assert list(meta['fields']) == ['class', 'label', 'score', 'area_px', 'painted', 'window']
    geoms = shapely.from_wkb(wkb)
    assert shapely.is_valid(geoms).all()
    left, bottom, right, top = rasterio.transform.array_bounds(400, 600, SCENE_TRANSFORM)
    assert shapely.box(left, bottom, right, top).contains(shapely.union_all(geoms))
    expected = [shapely.box(*(SCENE_TRANSFORM @ (x1, y2)), *(SCENE_TRANSFORM @ (x2, y1)))
                for x1, y1, x2, y2 in ((10, 20, 50, 60), (380, 100, 420, 140),
                                       (550, 350, 600, 400))]
    for geom, box in zip(geoms, expected):
        assert geom.symmetric_difference(box).area < 1e-6
    assert list(fields[0]) == ['car', 'ship', 'car'] and list(fields[1]) == [0, 1, 0]
    assert list(fields[3]) == [1600, 1600, 2500] and list(fields[5]) == [
        's_0_0', 's_200_0', 's_200_0']

    coco = json.loads((run_dir / 'geo' / 'instances.json').read_text())
    assert coco['images'] == [dict(id=1, scene_id='s', file_name='s.tif', height=400,
                                   width=600)]
    assert [a['bbox'] for a in coco['annotations']] == [
        [10, 20, 40, 40], [380, 100, 40, 40], [550, 350, 50, 50]]
    assert [a['category_id'] for a in coco['annotations']] == [1, 2, 1]
    ring = np.array(coco['annotations'][1]['segmentation'][0]).reshape(-1, 2)
    assert shapely.Polygon(ring).equals(shapely.box(380, 100, 420, 140))


def test_unfinished_windows_are_left_out_and_counted(run_dir):
    (run_dir / 'instances' / 's_200_0.json').unlink()
    (run_dir / 'gray' / 's_200_0.png').unlink()
    report = GeoSceneWriter(str(run_dir), CLASSES, PALETTE).write([scene()])
    assert report['s'] == dict(windows=2, done=1, missing=1, polygons=1)
    with rasterio.open(run_dir / 'geo' / 's.tif') as src:
        labels = src.read(1)
    assert (labels == 0).sum() == 1600 and (labels == 1).sum() == 0
    assert not (run_dir / 'geo' / '.partial' / 's.tif').exists()


def test_block_writes_stay_block_sized(run_dir, monkeypatch):
    """Memory holds one block: every write to the label raster is at most a block."""
    writes = []
    write = rasterio.io.DatasetWriter.write

    def recording_write(self, arr, *args, **kwargs):
        writes.append(arr.shape)
        return write(self, arr, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetWriter, 'write', recording_write)
    GeoSceneWriter(str(run_dir), CLASSES, PALETTE, block_size=256).write([scene()])
    assert writes == [(256, 256), (256, 256), (256, 88), (144, 256), (144, 256), (144, 88)]
    with pytest.raises(ValueError, match='multiple of 256'):
        GeoSceneWriter(str(run_dir), CLASSES, PALETTE, block_size=100)


def test_scene_without_crs_and_bad_ids(tmp_path):
    writer = SAMRSLabelWriter(str(tmp_path), CLASSES, PALETTE)
    writer.write(window_result('s_0_0', [(0, 0, 4, 4)], [1]))
    plain = dict(scene(), crs=None, transform=tuple(Affine.identity())[:6])
    GeoSceneWriter(str(tmp_path), CLASSES, PALETTE).write([plain])
    with rasterio.open(tmp_path / 'geo' / 's.tif') as src:
        assert src.crs is None and src.read(1)[0, 0] == 1
    with pytest.raises(ValueError, match='scene id'):
        GeoSceneWriter(str(tmp_path), CLASSES, PALETTE).write([dict(plain, scene_id='../x')])
