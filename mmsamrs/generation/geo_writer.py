"""Georeferenced outputs of a generation run over GeoTIFF scenes, in each scene's frame.

The generation loop writes every window of a scene like any other image (``gray/``,
``instances/`` fragments; resumable, several ranks). :class:`GeoSceneWriter` then
assembles them per scene into ``<out_dir>/geo/``:

* ``<scene>.tif``: the label raster, ``uint8`` class index per pixel, ``255`` = no label
  (nodata), same size, CRS and transform as the scene, tiled (256 x 256), DEFLATE
  compressed, with the class palette as colour table. It is written block by block
  (``block_size``); a block takes the label pixels of the windows overlapping it in
  window order (where windows overlap, the later window's labelled pixels win), so memory
  holds one block and one window at a time.
* ``<scene>.gpkg`` (layer ``masks``): one MultiPolygon per object in the scene's CRS,
  with ``class`` (name), ``label`` (index), ``score`` (SAM's predicted IoU), ``area_px``
  (mask pixels), ``painted`` and ``window`` (the window's image id); appended window by
  window.
* ``instances.json``: COCO with one image per scene (``file_name`` the raster, relative
  to ``img_root``) and the same objects with polygon ``segmentation`` (outer rings, holes
  dropped as COCO polygons have none) and ``bbox`` in scene pixel coordinates.

Windows without finished outputs (failed, or not generated yet) are left out and
counted; a resumed run writes the files again, complete. Every file appears atomically.
"""
from __future__ import annotations

import json
import os
import shutil
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pyogrio
import rasterio
import shapely
from affine import Affine
from PIL import Image
from pycocotools import mask as mask_utils
from rasterio.crs import CRS
from rasterio.features import shapes
from rasterio.windows import Window

from mmsamrs.utils import (IGNORE_INDEX, STAGING_DIR, atomic_open, atomic_path, check_plain_stem,
                           safe_join)
from .label_writer import FRAGMENT_DIR, GRAY_DIR, dumps

GEO_DIR = 'geo'
LAYER = 'masks'
FIELDS = ('class', 'label', 'score', 'area_px', 'painted', 'window')
TILE = 256
#: Decimals of the pixel coordinates of COCO polygons.
POLYGON_DECIMALS = 2

#: One window of a scene: image id, x0, y0, width, height (scene pixels).
WindowEntry = Tuple[str, int, int, int, int]


def mask_polygons(mask: np.ndarray, x0: int, y0: int) -> shapely.Geometry:
    """The foreground of a boolean mask whose top-left pixel is ``(x0, y0)``, as a valid
    (Multi)Polygon in pixel coordinates (pixel corners; one polygon per 4-connected
    part, so the parts are disjoint and touch at most at corners)."""
    parts = shapely.MultiPolygon([shapely.geometry.shape(geom) for geom, _ in shapes(
        mask.astype(np.uint8), mask=mask, connectivity=4,
        transform=Affine.translation(x0, y0))])
    return parts if parts.is_valid else shapely.make_valid(parts)


def multipolygon(geometry: shapely.Geometry) -> shapely.MultiPolygon:
    """The polygonal parts of ``geometry`` as one MultiPolygon."""
    polys = [p for p in shapely.get_parts(geometry) if isinstance(p, shapely.Polygon)]
    polys += [q for p in shapely.get_parts(geometry) if isinstance(p, shapely.MultiPolygon)
              for q in p.geoms]
    return shapely.MultiPolygon(polys)


def coco_polygons(geometry: shapely.MultiPolygon) -> List[List[float]]:
    """COCO ``segmentation`` polygons (outer rings, closing point dropped)."""
    return [np.round(np.asarray(p.exterior.coords)[:-1], POLYGON_DECIMALS).ravel().tolist()
            for p in geometry.geoms]


class GeoSceneWriter:
    """Assembles the per-window outputs of ``run_dir`` into georeferenced scene outputs.

    Args:
        run_dir: the generation run's output folder (``gray/``, ``instances/``).
        classes: class names (label index ``i`` = COCO category ``i + 1``).
        palette: RGB colour per class (the label raster's colour table).
        img_root: folder the scene paths are made relative to in ``instances.json``;
            ``None`` keeps the base name.
        block_size: side of the blocks the label raster is written in (a multiple of
            256).
    """

    def __init__(self, run_dir: str, classes: Sequence[str],
                 palette: Sequence[Sequence[int]], img_root: Optional[str] = None,
                 block_size: int = 1024) -> None:
        if block_size <= 0 or block_size % TILE:
            raise ValueError(f'block_size must be a positive multiple of {TILE}, '
                             f'got {block_size}')
        self.run_dir = run_dir
        self.out_dir = os.path.join(run_dir, GEO_DIR)
        self.classes = tuple(classes)
        self.palette = [tuple(int(v) for v in c) for c in palette[:len(classes)]]
        self.img_root = img_root
        self.block_size = block_size

    def _fragment(self, img_id: str) -> Optional[Dict[str, Any]]:
        """The finished window's fragment, ``None`` when the window is not done."""
        path = safe_join(os.path.join(self.run_dir, FRAGMENT_DIR),
                         check_plain_stem(img_id, 'image id') + '.json')
        if not os.path.exists(path):
            return None
        with open(path, 'rb') as f:
            return json.load(f)

    def write(self, scenes: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
        """Write every scene's label raster and polygons, and ``instances.json``.

        Args:
            scenes: :attr:`~mmsamrs.datasets.sources.GeoTIFFSceneDataset.scenes`.

        Returns:
            Per scene: windows done and missing, polygons written, the paths.
        """
        os.makedirs(self.out_dir, exist_ok=True)
        shutil.rmtree(os.path.join(self.out_dir, STAGING_DIR), ignore_errors=True)
        report: Dict[str, Any] = {}
        images = []
        ann_id = 0
        with atomic_open(os.path.join(self.out_dir, 'instances.json')) as coco:
            coco.write(b'{"annotations":[')
            for image_id, scene in enumerate(scenes, 1):
                check_plain_stem(scene['scene_id'], 'scene id')
                self.write_labels(scene)
                done, polygons, ann_id = self.write_objects(scene, image_id, ann_id, coco)
                report[scene['scene_id']] = dict(
                    windows=len(scene['windows']), done=done,
                    missing=len(scene['windows']) - done, polygons=polygons)
                path = scene['img_path']
                images.append(dict(
                    id=image_id, scene_id=scene['scene_id'], height=scene['height'],
                    width=scene['width'],
                    file_name=(os.path.relpath(path, self.img_root) if self.img_root
                               else os.path.basename(path))))
            categories = [dict(id=i + 1, name=n, label_index=i)
                          for i, n in enumerate(self.classes)]
            coco.write(b'],"categories":' + dumps(categories) + b',"images":'
                       + dumps(images) + b'}\n')
        return report

    def write_labels(self, scene: Mapping[str, Any]) -> str:
        """Write ``<scene>.tif`` block by block from the windows' label PNGs."""
        path = os.path.join(self.out_dir, scene['scene_id'] + '.tif')
        width, height = scene['width'], scene['height']
        profile = dict(
            driver='GTiff', width=width, height=height, count=1, dtype='uint8',
            crs=None if scene['crs'] is None else CRS.from_wkt(scene['crs']),
            transform=Affine(*scene['transform']), nodata=IGNORE_INDEX, tiled=True,
            blockxsize=TILE, blockysize=TILE, compress='deflate', BIGTIFF='IF_SAFER')
        colormap = {i: c for i, c in enumerate(self.palette)}
        colormap[IGNORE_INDEX] = (0, 0, 0)
        with atomic_path(path) as tmp, rasterio.open(tmp, 'w', **profile) as dst:
            dst.write_colormap(1, colormap)
            for by in range(0, height, self.block_size):
                for bx in range(0, width, self.block_size):
                    bw = min(self.block_size, width - bx)
                    bh = min(self.block_size, height - by)
                    block = self.label_block(scene['windows'], bx, by, bw, bh)
                    dst.write(block, 1, window=Window(bx, by, bw, bh))
        return path

    def label_block(self, windows: Sequence[WindowEntry], bx: int, by: int, bw: int,
                    bh: int) -> np.ndarray:
        """The ``(bh, bw)`` labels of a block from the finished windows overlapping it."""
        block = np.full((bh, bw), IGNORE_INDEX, dtype=np.uint8)
        for img_id, x0, y0, w, h in windows:
            ix0, iy0 = max(bx, x0), max(by, y0)
            ix1, iy1 = min(bx + bw, x0 + w), min(by + bh, y0 + h)
            if ix0 >= ix1 or iy0 >= iy1:
                continue
            gray = safe_join(os.path.join(self.run_dir, GRAY_DIR),
                             check_plain_stem(img_id, 'image id') + '.png')
            if not os.path.exists(gray):
                continue
            with Image.open(gray) as image:
                labels = np.asarray(image.crop((ix0 - x0, iy0 - y0, ix1 - x0, iy1 - y0)))
            target = block[iy0 - by:iy1 - by, ix0 - bx:ix1 - bx]
            labelled = labels != IGNORE_INDEX
            target[labelled] = labels[labelled]
        return block

    def write_objects(self, scene: Mapping[str, Any], image_id: int, ann_id: int,
                      coco) -> Tuple[int, int, int]:
        """Write ``<scene>.gpkg`` and the scene's COCO annotations to ``coco``.

        Returns:
            Windows done, polygons written, the last annotation id.
        """
        path = os.path.join(self.out_dir, scene['scene_id'] + '.gpkg')
        to_geo = Affine(*scene['transform'])
        done = polygons = 0
        with atomic_path(path) as tmp:
            self._append(tmp, scene['crs'], [], [], create=True)
            for img_id, x0, y0, _, _ in scene['windows']:
                fragment = self._fragment(img_id)
                if fragment is None:
                    continue
                done += 1
                geoms, rows = [], []
                for ann in fragment['annotations']:
                    pixels = self.annotation_polygons(ann, x0, y0)
                    if pixels.is_empty:
                        continue
                    ann_id += 1
                    xmin, ymin, xmax, ymax = pixels.bounds
                    coco.write((b',' if ann_id > 1 else b'') + dumps(dict(
                        id=ann_id, image_id=image_id, category_id=ann['category_id'],
                        category_name=ann['category_name'], score=ann['score'],
                        area=ann['area'], iscrowd=0, painted=ann['painted'], window=img_id,
                        bbox=[round(v, POLYGON_DECIMALS)
                              for v in (xmin, ymin, xmax - xmin, ymax - ymin)],
                        segmentation=coco_polygons(pixels))))
                    geoms.append(shapely.transform(
                        pixels, lambda c: np.column_stack(to_geo @ (c[:, 0], c[:, 1]))))
                    rows.append((ann['category_name'], ann['category_id'] - 1,
                                 ann['score'], ann['area'], int(ann['painted']), img_id))
                self._append(tmp, scene['crs'], geoms, rows)
                polygons += len(geoms)
        return done, polygons, ann_id

    @staticmethod
    def annotation_polygons(ann: Mapping[str, Any], x0: int, y0: int) -> shapely.MultiPolygon:
        """An annotation's mask (RLE in window pixels) as scene-pixel polygons."""
        bx, by, bw, bh = ann['mask_bbox']
        if bw == 0 or bh == 0:
            return shapely.MultiPolygon()
        rle = dict(ann['segmentation'], counts=ann['segmentation']['counts'].encode())
        mask = mask_utils.decode(rle)[by:by + bh, bx:bx + bw].astype(bool)
        return multipolygon(mask_polygons(mask, x0 + bx, y0 + by))

    @staticmethod
    def _append(path: str, crs: Optional[str], geoms: List[shapely.Geometry],
                rows: List[tuple], create: bool = False) -> None:
        """Create the ``masks`` layer, or append features to it."""
        if not (create or geoms):
            return
        columns = list(zip(*rows)) if rows else [()] * len(FIELDS)
        dtypes = (object, np.int32, np.float64, np.int64, np.int32, object)
        pyogrio.raw.write(
            path, np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
            [np.array(col, dtype=t) for col, t in zip(columns, dtypes)], fields=list(FIELDS),
            crs=crs, driver='GPKG', geometry_type='MultiPolygon', layer=LAYER,
            append=not create)
