"""Synthetic georeferenced scenes for the tests and the memory benchmark.

:func:`write_scene` writes a tiled, DEFLATE-compressed GeoTIFF window by window (a
20,000 x 20,000 scene never needs to fit in memory): a dark background with bright
rectangles at the object boxes. :func:`write_box_vectors` writes the same boxes as a
vector file in another CRS (reprojected from the scene's), as a user's annotation would be.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import pyogrio
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.windows import Window

#: A UTM zone (33N) and a 0.5 m pixel grid: not the default CRS of anything.
SCENE_CRS = 'EPSG:32633'
SCENE_TRANSFORM = Affine(0.5, 0.0, 500000.0, 0.0, -0.5, 5000000.0)

Box = Tuple[float, float, float, float]
BACKGROUND = 30
BRIGHT = np.array([220, 200, 180], dtype=np.uint8)


def write_scene(path: str, width: int, height: int, boxes: Sequence[Box] = (),
                crs: str = SCENE_CRS, transform: Affine = SCENE_TRANSFORM,
                chunk: int = 512) -> None:
    """A 3-band ``uint8`` GeoTIFF (256-pixel tiles), written ``chunk`` rows at a time;
    pixels inside ``boxes`` (``x1, y1, x2, y2`` scene pixels) are bright."""
    boxes_arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    profile = dict(driver='GTiff', width=width, height=height, count=3, dtype='uint8',
                   crs=crs, transform=transform, tiled=True, blockxsize=256,
                   blockysize=256, compress='deflate', BIGTIFF='IF_SAFER')
    with rasterio.open(path, 'w', **profile) as dst:
        for y0 in range(0, height, chunk):
            rows = min(chunk, height - y0)
            block = np.full((3, rows, width), BACKGROUND, dtype=np.uint8)
            for x1, y1, x2, y2 in boxes_arr:
                r1, r2 = int(max(y1 - y0, 0)), int(min(y2 - y0, rows))
                if r1 < r2:
                    block[:, r1:r2, int(x1):int(x2)] = BRIGHT[:, None, None]
            dst.write(block, window=Window(0, y0, width, rows))


def write_box_vectors(path: str, boxes: Sequence[Box], classes: Sequence[str],
                      vector_crs: str = 'EPSG:4326', crs: str = SCENE_CRS,
                      transform: Affine = SCENE_TRANSFORM,
                      driver: Optional[str] = None) -> None:
    """``boxes`` (scene pixels) as polygons in ``vector_crs`` with a ``class`` attribute
    (each box edge densified, so the reprojected shape stays faithful)."""
    project = Transformer.from_crs(crs, vector_crs, always_xy=True)

    def to_vector_crs(coords: np.ndarray) -> np.ndarray:
        xs, ys = transform @ (coords[:, 0], coords[:, 1])
        return np.column_stack(project.transform(xs, ys))

    geoms = [shapely.transform(shapely.segmentize(shapely.box(*b), 1.0), to_vector_crs)
             for b in boxes]
    pyogrio.raw.write(path, np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
                      [np.array(list(classes), dtype=object)], fields=['class'],
                      crs=vector_crs, driver=driver, geometry_type='Polygon')
