"""GeoTIFFSceneDataset: reprojection of real footprints, window assignment, bad input,
windowed reads (no pixel is read before a window is loaded, and only that window)."""
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from mmsamrs.datasets import GeoTIFFSceneDataset
from mmsamrs.datasets.sources import AnnotationError
from mmsamrs.datasets.sources.geotiff import best_start, window_starts
from mmsamrs.datasets.transforms import LoadGeoTIFFWindow
from mmsamrs.testing.geo_scenes import SCENE_TRANSFORM, write_box_vectors, write_scene


def scene_dataset(root: Path, ann: str, img: str = 'scene.tif', **kwargs) -> GeoTIFFSceneDataset:
    kwargs.setdefault('metainfo', dict(classes=('car', 'ship')))
    kwargs.setdefault('window_size', 128)
    kwargs.setdefault('overlap', 32)
    return GeoTIFFSceneDataset(data_root=str(root), scenes=[dict(img_path=img, ann_path=ann)],
                               test_mode=True, **kwargs)


def scene_boxes(dataset: GeoTIFFSceneDataset) -> list:
    """Every instance's H-Box in scene pixels, with its class and window."""
    boxes = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        x0, y0 = info['window'][:2]
        for inst in info['instances']:
            x1, y1, x2, y2 = inst['bbox']
            boxes.append(([x1 + x0, y1 + y0, x2 + x0, y2 + y0], inst['class_name'],
                          info['img_id']))
    return boxes


@pytest.mark.parametrize('ann', ['annotations/dsm.geojson', 'annotations/dsm.shp'])
def test_wgs84_footprints_land_where_pyproj_puts_them(realdata, ann):
    """84 real WGS 84 footprints on the real UTM 18N DSM: each H-Box is the pixel extent
    of the footprint's vertices, computed here with pyproj and the raster's geotransform."""
    import pyogrio
    import shapely
    geo = realdata / 'geo'
    dataset = scene_dataset(geo, ann, img='images/dsm.tif', window_size=128, overlap=64,
                            metainfo=dict(classes=('building', )))
    with rasterio.open(geo / 'images' / 'dsm.tif') as src:
        assert src.crs.to_epsg() == 26918
        origin_x, origin_y, size = src.transform.c, src.transform.f, src.transform.a
    to_utm = Transformer.from_crs('EPSG:4326', 'EPSG:26918', always_xy=True)
    expected = []
    for blob in pyogrio.raw.read(str(geo / 'annotations' / 'dsm.geojson'))[2]:
        lon, lat = shapely.get_coordinates(shapely.from_wkb(blob)).T
        east, north = to_utm.transform(lon, lat)
        cols, rows = (east - origin_x) / size, (origin_y - north) / size
        expected.append([cols.min(), rows.min(), cols.max(), rows.max()])
    found = scene_boxes(dataset)
    assert len(found) == 84 and dataset.report.counts['cut_by_window'] == 0
    np.testing.assert_allclose(sorted(b for b, _, _ in found), sorted(expected), atol=1e-6)
    assert {name for _, name, _ in found} == {'building'}
    # each object is prompted once, in a window that holds it whole
    for (x1, y1, x2, y2), _, img_id in found:
        x0, y0 = map(int, img_id.split('_')[1:])
        assert x0 <= x1 and x2 <= x0 + 128 and y0 <= y1 and y2 <= y0 + 128


def test_window_grid_and_choice():
    assert window_starts(100, 128, 32) == [0]
    assert window_starts(300, 128, 32) == [0, 96, 172]
    # a span across the border of windows 0 and 1 lies whole in window 1's overlap
    assert best_start(120, 140, [0, 96, 172], 128) == (1, True)
    # nearest centre among the windows holding it
    assert best_start(200, 220, [0, 96, 172], 128) == (2, True)
    # larger than any window: the one holding most of it, not whole
    assert best_start(90, 250, [0, 96, 172], 128) == (1, False)


def test_objects_on_window_borders_are_prompted_whole_once(tmp_path):
    """Pixel boxes on a synthetic UTM scene: border-crossing objects go whole into one
    window, an object larger than a window is cut (and counted), clipped at the scene."""
    write_scene(str(tmp_path / 'scene.tif'), 300, 200)
    (tmp_path / 'boxes.csv').write_text(
        'xmin,ymin,xmax,ymax,class\n'
        '120,10,140,40,car\n'       # across x = 128, inside the overlap
        '10,100,30,140,Ship\n'      # across y = 128, class spelt otherwise
        '20,20,270,60,ship\n'       # wider than a window
        '290,190,330,230,car\n')    # sticks out of the scene
    dataset = scene_dataset(tmp_path, 'boxes.csv', window_size=128, overlap=32)
    found = {tuple(round(v, 3) for v in b): (name, img_id)
             for b, name, img_id in scene_boxes(dataset)}
    assert found[(120, 10, 140, 40)] == ('car', 'scene_96_0')
    assert found[(10, 100, 30, 140)] == ('ship', 'scene_0_72')
    assert found[(290, 190, 300, 200)] == ('car', 'scene_172_72')
    cut = [b for b in found if b[1] == 20]
    assert cut == [(96, 20, 224, 60)] and found[cut[0]][0] == 'ship'
    assert dataset.report.counts['cut_by_window'] == 1
    assert dataset.report.counts['clipped'] == 1
    assert len(found) == 4
    (scene, ) = dataset.scenes
    assert scene['width'] == 300 and scene['transform'] == tuple(SCENE_TRANSFORM)[:6]
    assert {w[0] for w in scene['windows']} == {img_id for _, img_id in found.values()}
    # pixel boxes carry no oriented box, so the whole window packs without rboxes
    assert all('qbox' not in inst for i in range(len(dataset))
               for inst in dataset.get_data_info(i)['instances'])


def test_geopackage_classes_and_qbox(tmp_path):
    boxes = [(10, 10, 50, 30), (60, 60, 90, 100)]
    write_scene(str(tmp_path / 'scene.tif'), 128, 128, boxes)
    write_box_vectors(str(tmp_path / 'boxes.gpkg'), boxes, ['car', 'ship'])
    dataset = scene_dataset(tmp_path, 'boxes.gpkg', class_field='class', window_size=128)
    (info, ) = [dataset.get_data_info(0)]
    assert [i['class_name'] for i in info['instances']] == ['car', 'ship']
    np.testing.assert_allclose([i['bbox'] for i in info['instances']], boxes, atol=1e-3)
    np.testing.assert_allclose(sorted(info['instances'][0]['rbox'][2:4]), [20, 40], atol=1e-3)


def test_class_map_renames_source_values(tmp_path):
    write_scene(str(tmp_path / 'scene.tif'), 64, 64)
    (tmp_path / 'boxes.csv').write_text('xmin,ymin,xmax,ymax,class\n1,1,9,9,1\n2,2,8,8,2\n')
    dataset = scene_dataset(tmp_path, 'boxes.csv', class_map={'1': 'car', '2': 'ship'})
    assert [name for _, name, _ in scene_boxes(dataset)] == ['car', 'ship']


def test_bad_input_names_file_and_feature(tmp_path):
    write_scene(str(tmp_path / 'scene.tif'), 128, 128)
    boxes = [(10, 10, 50, 30), (60, 60, 90, 100), (500, 500, 520, 520)]
    write_box_vectors(str(tmp_path / 'boxes.gpkg'), boxes, ['car', 'plane', 'car'])
    with pytest.raises(AnnotationError, match=r"boxes\.gpkg, object 2: .*'plane'"):
        scene_dataset(tmp_path, 'boxes.gpkg', class_field='class')
    lenient = scene_dataset(tmp_path, 'boxes.gpkg', class_field='class', strict=False)
    assert len(scene_boxes(lenient)) == 1
    assert {p.kind: p.object for p in lenient.report.problems} == {
        'unknown_class': 2, 'outside_image': 3}
    with pytest.raises(ValueError, match=r"boxes\.gpkg: no attribute 'kind'.*\['class'\]"):
        scene_dataset(tmp_path, 'boxes.gpkg', class_field='kind')
    (tmp_path / 'bad.csv').write_text('x1,y1,x2,y2,class\n')
    with pytest.raises(ValueError, match=r'bad\.csv, line 1: header'):
        scene_dataset(tmp_path, 'bad.csv')
    (tmp_path / 'nan.csv').write_text('xmin,ymin,xmax,ymax,class\n1,2,3,4,car\n1,nan,3,4,car\n')
    with pytest.raises(AnnotationError, match=r'nan\.csv, line 3'):
        scene_dataset(tmp_path, 'nan.csv')
    with pytest.raises(AnnotationError, match=r'missing\.gpkg.*not found'):
        scene_dataset(tmp_path, 'missing.gpkg')
    with pytest.raises(AnnotationError, match='no class and several classes'):
        scene_dataset(tmp_path, 'boxes.gpkg')


def test_vector_file_without_crs_needs_vector_crs(tmp_path):
    import pyogrio
    import shapely
    write_scene(str(tmp_path / 'scene.tif'), 128, 128)
    x, y = SCENE_TRANSFORM @ (10, 20)
    pyogrio.raw.write(str(tmp_path / 'nocrs.gpkg'),
                      np.array([shapely.to_wkb(shapely.box(x, y - 5, x + 10, y))], object),
                      [], fields=[], geometry_type='Polygon')
    with pytest.raises(ValueError, match=r'nocrs\.gpkg: the vector file has no CRS'):
        scene_dataset(tmp_path, 'nocrs.gpkg', metainfo=dict(classes=('car', )))
    dataset = scene_dataset(tmp_path, 'nocrs.gpkg', metainfo=dict(classes=('car', )),
                            vector_crs='EPSG:32633')
    np.testing.assert_allclose(scene_boxes(dataset)[0][0], [10, 20, 30, 30], atol=1e-6)
    # UTM numbers in a GeoJSON (WGS 84 by definition) map nowhere: bad_geometry
    pyogrio.raw.write(str(tmp_path / 'utm.geojson'),
                      np.array([shapely.to_wkb(shapely.box(x, y - 5, x + 10, y))], object),
                      [], fields=[], geometry_type='Polygon')
    with pytest.raises(AnnotationError, match=r'utm\.geojson, object 1: coordinates'):
        scene_dataset(tmp_path, 'utm.geojson', metainfo=dict(classes=('car', )))


def test_folder_layout_pairs_scenes_with_annotations(tmp_path):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'annotations').mkdir()
    for name in ('a', 'b'):
        write_scene(str(tmp_path / 'images' / f'{name}.tif'), 64, 64)
        (tmp_path / 'annotations' / f'{name}.csv').write_text(
            'xmin,ymin,xmax,ymax,class\n1,1,9,9,car\n')
    dataset = GeoTIFFSceneDataset(data_root=str(tmp_path), test_mode=True,
                                  metainfo=dict(classes=('car', )))
    assert [s['scene_id'] for s in dataset.scenes] == ['a', 'b']
    assert dataset.metainfo['classes'] == ('car', ) and len(dataset.metainfo['palette']) == 1


def test_only_the_window_is_read(tmp_path, monkeypatch):
    """Building the dataset reads no pixel; loading a sample reads exactly its window."""
    boxes = [(10, 10, 50, 30), (900, 700, 950, 760)]
    write_scene(str(tmp_path / 'scene.tif'), 1000, 800, boxes)
    (tmp_path / 'boxes.csv').write_text('xmin,ymin,xmax,ymax,class\n' + ''.join(
        f'{x1},{y1},{x2},{y2},car\n' for x1, y1, x2, y2 in boxes))
    reads = []
    read = rasterio.io.DatasetReader.read

    def recording_read(self, *args, **kwargs):
        reads.append(kwargs.get('window'))
        return read(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetReader, 'read', recording_read)
    dataset = scene_dataset(tmp_path, 'boxes.csv', window_size=256, overlap=64)
    assert reads == []
    info = dataset.get_data_info(1)
    results = LoadGeoTIFFWindow()(dict(info))
    assert len(reads) == 1 and tuple(reads[0].flatten()) == info['window']
    assert results['img'].shape == (256, 256, 3) and results['img'].dtype == np.uint8
    x0, y0 = info['window'][:2]
    assert (results['img'][760 - y0 - 1, 950 - x0 - 1] == (220, 200, 180)).all()
    assert (results['img'][0, 0] == 30).all()


def test_float_raster_is_stretched_and_errors_are_recorded(realdata, tmp_path):
    dsm = str(realdata / 'geo' / 'images' / 'dsm.tif')
    loaded = LoadGeoTIFFWindow()(dict(img_path=dsm, window=(0, 0, 100, 80), instances=[]))
    img = loaded['img']
    assert img.shape == (80, 100, 3) and (img[..., 0] == img[..., 2]).all()
    assert img.min() == 0 and img.max() == 255
    fixed = LoadGeoTIFFWindow(value_range=(0, 1000))(
        dict(img_path=dsm, window=(0, 0, 100, 80), instances=[]))['img']
    assert fixed.max() < 15  # heights of 7-39 m on a 0-1000 m scale
    failed = LoadGeoTIFFWindow()(dict(img_path=str(tmp_path / 'gone.tif'),
                                      window=(0, 0, 8, 8), instances=[1]))
    assert 'gone.tif' in failed['load_error'] and failed['instances'] == []
