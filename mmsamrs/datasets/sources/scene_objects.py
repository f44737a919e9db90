"""Objects of a georeferenced scene in its pixel frame, from vector files or pixel boxes.

A scene's objects come from one annotation file:

* a vector file (GeoPackage ``.gpkg``, GeoJSON ``.geojson``/``.json``, Shapefile
  ``.shp``; read with pyogrio) of polygons or boxes in any CRS: each geometry is
  reprojected to the raster's CRS with pyproj, then mapped to pixel coordinates with the
  inverse of the raster's affine transform;
* a CSV file ``.csv`` of boxes already in the scene's pixel coordinates, with the header
  ``xmin,ymin,xmax,ymax,class`` (``x`` = column, ``y`` = row, pixel corners).

Each object becomes a :class:`SceneObject` whose geometry is a shapely polygon in pixel
coordinates (``x`` = column, ``y`` = row). A problem of a single object is an
:class:`~mmsamrs.datasets.sources.problems.AnnotationError` located at the file and the
feature number (vector files, 1-based in file order) or line (CSV), passed to the
caller's ``handle`` (which raises, or records it and the object is skipped); the kinds
are those of the other readers plus ``bad_geometry`` (a missing, empty or non-polygonal
geometry).
"""
import csv
import io
import os.path as osp
from typing import Callable, List, NamedTuple, Optional

import numpy as np
import pyogrio
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from .parsing import to_float
from .problems import AnnotationError

VECTOR_SUFFIXES = ('.gpkg', '.geojson', '.json', '.shp')
PIXEL_BOX_SUFFIX = '.csv'
PIXEL_BOX_COLUMNS = ('xmin', 'ymin', 'xmax', 'ymax', 'class')
#: Receives the error of an object that cannot be read (raises, or records it).
ErrorHandler = Callable[[AnnotationError], None]


class SceneObject(NamedTuple):
    """One object of a scene: pixel-frame polygon, class value as written, location."""

    polygon: shapely.Geometry
    class_value: Optional[str]
    line: Optional[int] = None
    obj: Optional[int] = None


def to_pixel_frame(src_crs: Optional[CRS], dst_crs: Optional[CRS], transform: Affine,
                   path: str) -> Callable[[np.ndarray], np.ndarray]:
    """A function mapping ``(N, 2)`` coordinates in ``src_crs`` to the raster's pixels.

    Coordinates are reprojected from ``src_crs`` to ``dst_crs`` (``always_xy``: easting
    or longitude first), then mapped through the inverse of ``transform``. A file and
    raster where only one has a CRS cannot be matched: ``ValueError`` naming ``path``.
    """
    if (src_crs is None) != (dst_crs is None):
        which = 'the vector file' if src_crs is None else 'the raster'
        raise ValueError(f'{path}: {which} has no CRS, so its coordinates cannot be matched; '
                         "set vector_crs (e.g. 'EPSG:4326') for a vector file without one")
    project = None
    if src_crs is not None and not CRS(src_crs).equals(CRS(dst_crs)):
        project = Transformer.from_crs(src_crs, dst_crs, always_xy=True)
    inverse = ~transform

    def apply(coords: np.ndarray) -> np.ndarray:
        xs, ys = coords[:, 0], coords[:, 1]
        if project is not None:
            xs, ys = project.transform(xs, ys)
        with np.errstate(invalid='ignore', over='ignore'):  # caught by to_pixels
            cols, rows = inverse @ (np.asarray(xs), np.asarray(ys))
        return np.column_stack([cols, rows])

    return apply


def polygonal(geometry: Optional[shapely.Geometry]) -> shapely.Geometry:
    """The valid polygonal part of ``geometry``; ``bad_geometry`` when there is none."""
    if geometry is None or geometry.is_empty:
        raise AnnotationError('bad_geometry', 'the feature has no geometry')
    if not isinstance(geometry, (shapely.Polygon, shapely.MultiPolygon)):
        raise AnnotationError(
            'bad_geometry', f'expected a Polygon or MultiPolygon (a box or a footprint), '
            f'got a {geometry.geom_type}')
    if not geometry.is_valid:
        parts = shapely.get_parts(shapely.make_valid(geometry))
        geometry = shapely.union_all(
            [p for p in parts if isinstance(p, (shapely.Polygon, shapely.MultiPolygon))])
    return geometry


def to_pixels(geometry: shapely.Geometry,
              apply: Callable[[np.ndarray], np.ndarray]) -> shapely.Geometry:
    """``geometry`` mapped by ``apply``; ``bad_geometry`` when a coordinate does not map
    to a finite pixel position (coordinates outside the CRS's domain, a wrong CRS)."""
    coords = apply(shapely.get_coordinates(geometry))
    if not np.isfinite(coords).all():
        x1, y1, x2, y2 = geometry.bounds
        raise AnnotationError(
            'bad_geometry', f'coordinates within ({x1:g}, {y1:g}, {x2:g}, {y2:g}) do not '
            "map to the raster (outside the file's CRS domain; is the CRS right?)")
    return shapely.transform(geometry, lambda _: coords)


def read_vector_objects(path: str, raster_crs: Optional[CRS], transform: Affine,
                        handle: ErrorHandler, class_field: Optional[str] = None,
                        layer: Optional[str] = None,
                        vector_crs: Optional[str] = None) -> List[SceneObject]:
    """Read the polygons of a vector file in the raster's pixel frame.

    Args:
        path: GeoPackage, GeoJSON or Shapefile.
        raster_crs: CRS of the scene (``None`` for a raster without one).
        transform: the scene's affine transform (pixel -> CRS coordinates).
        handle: called with the error of each object that cannot be read.
        class_field: attribute holding each feature's class; ``None``: no class.
        layer: layer of a multi-layer file (GeoPackage); ``None``: the first.
        vector_crs: CRS to assume for a file without one (a file's own CRS wins).

    Raises:
        ValueError: ``class_field`` is not an attribute of the file (lists those it has),
            or the CRS cannot be matched.
    """
    info = pyogrio.read_info(path, layer=layer)
    fields = list(info['fields'])
    if class_field is not None and class_field not in fields:
        raise ValueError(f'{path}: no attribute {class_field!r} (class_field); the file has '
                         f'{fields}')
    meta, _, wkb, field_data = pyogrio.raw.read(
        path, layer=layer, columns=[class_field] if class_field else [])
    src_crs = meta['crs'] or vector_crs
    apply = to_pixel_frame(src_crs and CRS.from_user_input(src_crs), raster_crs, transform,
                           path)
    classes = field_data[0] if class_field else [None] * len(wkb)
    objects = []
    for number, (blob, value) in enumerate(zip(wkb, classes), 1):
        geometry = None if blob is None else shapely.from_wkb(blob)
        try:
            geometry = to_pixels(polygonal(geometry), apply)
        except AnnotationError as err:
            handle(err.locate(path, obj=number))
            continue
        objects.append(SceneObject(geometry, None if value is None else str(value),
                                   obj=number))
    return objects


def read_pixel_boxes(path: str, handle: ErrorHandler) -> List[SceneObject]:
    """Read a CSV of pixel boxes (header ``xmin,ymin,xmax,ymax,class``); ``handle`` is
    called with the error of each line that cannot be read.

    Raises:
        ValueError: the header differs (says what it is and what was expected).
    """
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8-sig')
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header) != PIXEL_BOX_COLUMNS:
        raise ValueError(f'{path}, line 1: header {header} is not the expected '
                         f'{list(PIXEL_BOX_COLUMNS)}')
    objects: List[SceneObject] = []
    for row in reader:
        line = reader.line_num
        if not any(v.strip() for v in row):
            continue
        try:
            if len(row) != len(PIXEL_BOX_COLUMNS):
                raise AnnotationError('bad_fields', f'expected 5 fields '
                                      f'({",".join(PIXEL_BOX_COLUMNS)}), got {len(row)}')
            x1, y1, x2, y2 = (to_float(v, name) for v, name in zip(row[:4], PIXEL_BOX_COLUMNS))
            if x2 <= x1 or y2 <= y1:
                raise AnnotationError('zero_area', f'box has zero width or height: '
                                      f'{[x1, y1, x2, y2]}')
            geometry = shapely.box(x1, y1, x2, y2)
        except AnnotationError as err:
            handle(err.locate(path, line))
            continue
        objects.append(SceneObject(geometry, row[-1].strip(), line=line))
    return objects


def read_scene_objects(path: str, raster_crs: Optional[CRS], transform: Affine,
                       handle: ErrorHandler, class_field: Optional[str] = None,
                       layer: Optional[str] = None,
                       vector_crs: Optional[str] = None) -> List[SceneObject]:
    """Read ``path`` by its suffix: a vector file or a CSV of pixel boxes."""
    suffix = osp.splitext(path)[1].lower()
    if suffix == PIXEL_BOX_SUFFIX:
        return read_pixel_boxes(path, handle)
    if suffix in VECTOR_SUFFIXES:
        return read_vector_objects(path, raster_crs, transform, handle, class_field, layer,
                                   vector_crs)
    raise ValueError(f'{path}: unknown annotation format {suffix!r}; expected one of '
                     f'{", ".join(VECTOR_SUFFIXES + (PIXEL_BOX_SUFFIX, ))}')
