"""GeoTIFF scenes as a generation source: each sample is one window of a scene.

A scene is a georeferenced raster (GeoTIFF, any CRS) and one annotation file (a vector
file in any CRS or a CSV of pixel boxes; :mod:`~mmsamrs.datasets.sources.scene_objects`).
Only the raster's header is read here; pixels are read per window by
:class:`~mmsamrs.datasets.transforms.LoadGeoTIFFWindow`, so memory does not grow with
the scene.

Windows: ``window_size`` squares on a grid of step ``window_size - overlap`` (the last
row and column end on the scene edge; a scene smaller than a window is one window). Each
object is prompted in exactly one window: among the windows that contain its box whole,
the one whose centre is nearest the box centre; an object that fits in none (larger than
``overlap`` allows) goes to the window holding the largest part of it and is clipped to
that window (counted in ``report.counts['cut_by_window']``). Objects partly outside the
scene are clipped to it (``clipped``); objects entirely outside are ``outside_image``.
Windows without objects are not samples (nothing to prompt); the label raster stays
``255`` there. A scene whose raster or annotation file cannot be read at all (not a
raster, a CSV with another header, a vector file without the ``class_field`` attribute
or without a CRS) raises a ``ValueError`` naming the file, or with ``strict=False`` is
recorded as ``bad_scene`` and skipped.

``data_info`` of a window: ``img_path`` (the scene), ``img_id``
(``<scene id>_<x0>_<y0>``), ``scene_id``, ``window`` ``(x0, y0, width, height)`` in
scene pixels, ``height``/``width`` of the window, ``ann_path``, ``source`` and
``instances`` in window pixels (``bbox``, plus ``qbox``/``rbox`` — the minimum rotated
rectangle — for vector polygons; ``bbox_label``, ``class_name``, ``ignore_flag``).
:attr:`GeoTIFFSceneDataset.scenes` holds each scene's frame (CRS, transform, size) and
windows, for :class:`~mmsamrs.generation.GeoSceneWriter`.
"""
import logging
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import rasterio
import shapely
from mmengine.logging import print_log

from mmsamrs.datasets.class_names import class_index, make_palette
from mmsamrs.registry import DATASETS
from mmsamrs.utils import check_plain_stem
from .problems import SKIP_IMAGE, SKIP_OBJECT, AnnotationError, SourceReport
from .scene_objects import PIXEL_BOX_SUFFIX, VECTOR_SUFFIXES, SceneObject, read_scene_objects
from .source_dataset import SourceDataset, complete_rotated_boxes

RASTER_SUFFIXES = ('.tif', '.tiff')


def window_starts(length: int, size: int, overlap: int) -> List[int]:
    """Start offsets of windows of ``size`` covering ``[0, length)`` with ``overlap``."""
    if length <= size:
        return [0]
    starts = list(range(0, length - size, size - overlap))
    return starts + [length - size]


def best_start(lo: float, hi: float, starts: Sequence[int], size: int) -> Tuple[int, bool]:
    """The window start (index) for the span ``[lo, hi]`` on one axis, and whether the
    window holds it whole: nearest centre among those holding it, else largest overlap."""
    starts_arr = np.asarray(starts, dtype=np.float64)
    holds = (starts_arr <= lo) & (starts_arr + size >= hi)
    if holds.any():
        distance = np.abs(starts_arr + size / 2 - (lo + hi) / 2)
        return int(np.argmin(np.where(holds, distance, np.inf))), True
    overlap = np.minimum(starts_arr + size, hi) - np.maximum(starts_arr, lo)
    return int(np.argmax(overlap)), False


@DATASETS.register_module()
class GeoTIFFSceneDataset(SourceDataset):
    """Windows of georeferenced scenes with boxes or polygons (see the module docstring).

    Config::

        dataset=dict(type='GeoTIFFSceneDataset', data_root='data/my_scenes',
                     scenes=[dict(img_path='scene.tif', ann_path='buildings.gpkg')],
                     class_field='class', window_size=1024, overlap=256,
                     metainfo=dict(classes=('building', 'tree')))

    Without ``scenes``, every ``*.tif``/``*.tiff`` of ``data_prefix['img_path']`` is a
    scene, annotated by the file of the same stem in ``data_prefix['ann_path']`` with the
    first of ``.gpkg .geojson .json .shp .csv`` that exists.

    Args:
        data_root: root that relative paths are joined to.
        scenes: list of ``dict(img_path=..., ann_path=...)`` (optionally ``scene_id``,
            default the raster's stem; ``layer`` of a multi-layer vector file).
        data_prefix: folders scanned when ``scenes`` is not given.
        class_field: vector attribute holding the class (``None``: every object is
            ``default_class``). CSV pixel boxes always name their class.
        class_map: source class value -> class name of ``metainfo['classes']``, for
            values spelt otherwise (matching ignores case, spaces, ``_`` and ``-``).
        default_class: class of objects without a class; default: the only class when
            ``metainfo['classes']`` has one.
        vector_crs: CRS assumed for a vector file that has none.
        window_size: side of the windows, in pixels.
        overlap: overlap of neighbouring windows; objects up to this size are always
            prompted whole.
        strict: raise at the first bad object or scene (True) or record it in
            ``self.report`` and skip it (False); see
            :mod:`~mmsamrs.datasets.sources.problems`.
        **kwargs: the other arguments of :class:`mmengine.dataset.BaseDataset`.

    Malformed objects and unreadable scenes follow the readers' contract
    (:class:`~mmsamrs.datasets.sources.SourceDataset`): ``report``, ``strict``.
    """

    SOURCE = 'geotiff'
    METAINFO = dict(classes=('object', ), palette=make_palette(1), source=SOURCE)
    DEFAULT_PREFIX = dict(img_path='images', ann_path='annotations')

    def __init__(self, data_root: str = '', scenes: Optional[Sequence[dict]] = None,
                 data_prefix: Optional[dict] = None, class_field: Optional[str] = None,
                 class_map: Optional[Dict[str, str]] = None,
                 default_class: Optional[str] = None, vector_crs: Optional[str] = None,
                 window_size: int = 1024, overlap: int = 256, strict: bool = True,
                 **kwargs) -> None:
        if not 0 <= overlap < window_size:
            raise ValueError(f'need 0 <= overlap < window_size, got overlap={overlap}, '
                             f'window_size={window_size}')
        self.scene_cfgs = None if scenes is None else [dict(s) for s in scenes]
        self.class_field = class_field
        self.default_class = default_class
        self.vector_crs = vector_crs
        self.window_size = window_size
        self.overlap = overlap
        self.scenes: List[Dict[str, Any]] = []
        super().__init__(data_root=data_root, data_prefix=data_prefix, strict=strict,
                         class_map=class_map, **kwargs)

    def scene_list(self) -> List[Dict[str, Any]]:
        """The scenes to read: ``scenes`` joined to ``data_root``, or the scanned folder."""
        if self.scene_cfgs is not None:
            if not self.scene_cfgs:
                raise ValueError(f'{type(self).__name__}: scenes is empty')
            listed = []
            for cfg in self.scene_cfgs:
                missing = {'img_path', 'ann_path'} - set(cfg)
                if missing:
                    raise ValueError(f'{type(self).__name__}: scene {cfg} lacks '
                                     f'{sorted(missing)}; expected img_path and ann_path')
                listed.append(dict(cfg, img_path=osp.join(self.data_root, cfg['img_path']),
                                   ann_path=osp.join(self.data_root, cfg['ann_path'])))
            return listed
        img_dir, ann_dir = self.data_prefix['img_path'], self.data_prefix['ann_path']
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f"{type(self).__name__}: data_prefix['img_path'] directory {img_dir!r} not "
                f'found (data_root={self.data_root!r}); give scenes=[dict(img_path=..., '
                'ann_path=...)] or a folder of GeoTIFFs')
        listed = []
        for name in sorted(os.listdir(img_dir)):
            stem, suffix = osp.splitext(name)
            if suffix.lower() not in RASTER_SUFFIXES:
                continue
            candidates = [osp.join(ann_dir, stem + s)
                          for s in VECTOR_SUFFIXES + (PIXEL_BOX_SUFFIX, )]
            found = [c for c in candidates if osp.isfile(c)]
            listed.append(dict(img_path=osp.join(img_dir, name),
                               ann_path=found[0] if found else candidates[0]))
        if not listed:
            raise FileNotFoundError(f'{type(self).__name__}: no *.tif or *.tiff scene in '
                                    f'{img_dir!r}')
        return listed

    def load_data_list(self) -> List[dict]:
        """Read every scene's header and objects; cut the scenes into windows."""
        self.report = SourceReport(self.SOURCE)
        self._names = self.class_names_map()
        self._labels = class_index(self._metainfo['classes'])
        self.scenes = []
        data_list: List[dict] = []
        seen = set()
        for cfg in self.scene_list():
            self.report.counts['annotation_files'] += 1
            try:
                scene_id = check_plain_stem(
                    cfg.get('scene_id', osp.splitext(osp.basename(cfg['img_path']))[0]),
                    'scene id')
                if scene_id in seen:
                    raise AnnotationError('duplicate_id', f'scene id {scene_id!r} is used '
                                          'twice; set scene_id to tell the scenes apart')
                seen.add(scene_id)
                windows = self.read_scene(scene_id, cfg)
            except AnnotationError as err:
                self.handle(err.locate(cfg['ann_path']), SKIP_IMAGE)
                continue
            except (ValueError, rasterio.errors.RasterioError) as err:
                if self.strict:  # the message names the file
                    raise
                self.handle(AnnotationError('bad_scene', f'{type(err).__name__}: {err}',
                                            file=cfg['img_path']), SKIP_IMAGE)
                continue
            data_list.extend(windows)
        self.report.counts['images'] = len(data_list)
        self.report.counts['instances'] = sum(len(d['instances']) for d in data_list)
        print_log(self.report.summary(), logger='current',
                  level=logging.WARNING if self.report.problems else logging.INFO)
        return data_list

    def read_scene(self, scene_id: str, cfg: Dict[str, Any]) -> List[dict]:
        """The windows (``data_info`` dicts) of one scene; registers it in :attr:`scenes`."""
        img_path, ann_path = cfg['img_path'], cfg['ann_path']
        if not osp.isfile(img_path):
            raise AnnotationError('missing_image', f'scene raster {img_path!r} not found')
        if not osp.isfile(ann_path):
            raise AnnotationError('missing_annotation',
                                  f'annotation file {ann_path!r} of scene {scene_id!r} '
                                  'not found')
        with rasterio.open(img_path) as src:
            crs, transform = src.crs, src.transform
            width, height = src.width, src.height
        objects = read_scene_objects(ann_path, crs, transform,
                                     lambda err: self.handle(err, SKIP_OBJECT),
                                     self.class_field, cfg.get('layer'), self.vector_crs)
        xs = window_starts(width, self.window_size, self.overlap)
        ys = window_starts(height, self.window_size, self.overlap)
        per_window: Dict[Tuple[int, int], List[dict]] = {}
        for obj in objects:
            try:
                name, label = self.map_class(obj.class_value)
                self.place(obj, name, label, (width, height), xs, ys, per_window)
            except AnnotationError as err:
                self.handle(err.locate(ann_path, obj.line, obj.obj), SKIP_OBJECT)
        windows = []
        for (j, i), instances in sorted(per_window.items()):
            x0, y0 = xs[i], ys[j]
            w, h = min(self.window_size, width - x0), min(self.window_size, height - y0)
            complete_rotated_boxes(instances)
            windows.append(dict(
                img_path=img_path, img_id=f'{scene_id}_{x0}_{y0}', scene_id=scene_id,
                window=(x0, y0, w, h), height=h, width=w, ann_path=ann_path,
                source=self.SOURCE, instances=instances))
        self.scenes.append(dict(
            scene_id=scene_id, img_path=img_path, crs=None if crs is None else crs.to_wkt(),
            transform=tuple(transform)[:6], width=width, height=height,
            windows=[(d['img_id'], ) + tuple(d['window']) for d in windows]))
        return windows

    def map_class(self, name: Optional[str]) -> Tuple[str, int]:
        """The class name and label of an object's class value (``None``: the object has
        no class, so ``default_class`` or the only class)."""
        if name is None:
            classes = tuple(self._labels)
            name = self.default_class or (classes[0] if len(classes) == 1 else None)
            if name is None:
                raise AnnotationError(
                    'unknown_class', f'the object has no class and several classes exist '
                    f'{classes}; set class_field or default_class')
        return super().map_class(name)

    def place(self, obj: SceneObject, name: str, label: int, size: Tuple[int, int],
              xs: List[int], ys: List[int], per_window: Dict[Tuple[int, int], List[dict]]
              ) -> None:
        """Clip ``obj`` to the scene, pick its window and add it there as an instance."""
        width, height = size
        polygon = obj.polygon
        x1, y1, x2, y2 = polygon.bounds
        if x1 >= width or y1 >= height or x2 <= 0 or y2 <= 0:
            raise AnnotationError('outside_image', f'object with pixel bounds '
                                  f'{[round(v, 2) for v in (x1, y1, x2, y2)]} lies outside '
                                  f'the {width}x{height} scene')
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            polygon = polygon.intersection(shapely.box(0, 0, width, height))
            self.report.counts['clipped'] += 1
        if polygon.area <= 0:
            raise AnnotationError('zero_area', 'object has zero area in the scene')
        x1, y1, x2, y2 = polygon.bounds
        i, whole_x = best_start(x1, x2, xs, self.window_size)
        j, whole_y = best_start(y1, y2, ys, self.window_size)
        x0, y0 = xs[i], ys[j]
        if not (whole_x and whole_y):
            polygon = polygon.intersection(shapely.box(
                x0, y0, x0 + self.window_size, y0 + self.window_size))
            self.report.counts['cut_by_window'] += 1
        local = shapely.transform(polygon, lambda coords: coords - (x0, y0))
        bx1, by1, bx2, by2 = local.bounds
        instance: Dict[str, Any] = dict(bbox=[bx1, by1, bx2, by2])
        if obj.obj is not None:  # a vector polygon: its oriented box too
            corners = np.asarray(local.minimum_rotated_rectangle.exterior.coords)[:4]
            instance['qbox'] = corners.reshape(-1).tolist()
        instance.update(bbox_label=label, class_name=name, difficult=0, ignore_flag=0)
        per_window.setdefault((j, i), []).append(instance)
