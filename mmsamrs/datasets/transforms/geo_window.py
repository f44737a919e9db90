"""Reading one window of a georeferenced raster as an 8-bit RGB image for SAM."""
from typing import Optional, Sequence, Tuple

import numpy as np
import rasterio
from mmcv.transforms import BaseTransform
from rasterio.windows import Window

from mmsamrs.registry import TRANSFORMS
from .loading import LoadImageOrRecordError

#: Percentiles of the valid pixels that a non-8-bit window is stretched between.
STRETCH_PERCENTILES = (2.0, 98.0)


def to_uint8(bands: np.ndarray, valid: np.ndarray,
             value_range: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """Map ``(C, H, W)`` values to ``uint8``: linearly from ``value_range`` (default: the
    2nd-98th percentiles of the ``valid`` pixels) onto 0-255; invalid pixels are 0."""
    data = bands.astype(np.float32)
    if value_range is None:
        if not valid.any():
            return np.zeros(bands.shape, np.uint8)
        low, high = np.percentile(data[:, valid], STRETCH_PERCENTILES)
    else:
        low, high = value_range
    scaled = (data - low) * (255.0 / max(float(high - low), 1e-12))
    return np.where(valid, np.clip(np.rint(scaled), 0, 255), 0).astype(np.uint8)


def read_window(path: str, window: Sequence[int], bands: Optional[Sequence[int]] = None,
                value_range: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """Read ``window`` ``(x0, y0, width, height)`` of the raster ``path`` as ``(H, W, 3)``
    ``uint8``: only that window is read from the file.

    ``bands`` are 1-based (default: 1, 2, 3, or band 1 three times for fewer bands).
    ``uint8`` rasters are kept as they are (nodata shown as 0); other types are stretched
    by :func:`to_uint8` over the pixels that are not nodata.
    """
    x0, y0, width, height = (int(v) for v in window)
    with rasterio.open(path) as src:
        if bands is None:
            bands = (1, 2, 3) if src.count >= 3 else (1, 1, 1)
        if len(bands) != 3 or not all(1 <= b <= src.count for b in bands):
            raise ValueError(f'{path}: bands must be 3 band numbers in 1..{src.count}, '
                             f'got {tuple(bands)}')
        rwin = Window(x0, y0, width, height)
        data = src.read(list(bands), window=rwin)
        valid = src.read_masks(bands[0], window=rwin) > 0
        dtype = src.dtypes[bands[0] - 1]
    data = data if dtype == 'uint8' and value_range is None else to_uint8(data, valid,
                                                                             value_range)
    return np.ascontiguousarray(np.where(valid, data, 0).transpose(1, 2, 0).astype(np.uint8))


@TRANSFORMS.register_module()
class LoadGeoTIFFWindow(BaseTransform):
    """Load ``results['window']`` of the raster ``results['img_path']`` (windowed read).

    First step of a pipeline over :class:`~mmsamrs.datasets.sources.GeoTIFFSceneDataset`
    samples: ``dict(type='LoadGeoTIFFWindow', bands=None, value_range=None)`` (see
    :func:`read_window`). A window that cannot be read does not raise: like
    :class:`LoadImageOrRecordError` the sample gets ``load_error`` naming the file and
    the window, and the generation loop records it as a failure.

    Args:
        bands: three 1-based band numbers shown to SAM as R, G, B.
        value_range: ``(low, high)`` mapped onto 0-255 for every window (e.g. a DSM's
            height range); ``None``: 8-bit data as is, other data stretched per window.
    """

    def __init__(self, bands: Optional[Sequence[int]] = None,
                 value_range: Optional[Tuple[float, float]] = None) -> None:
        self.bands = None if bands is None else tuple(bands)
        self.value_range = None if value_range is None else tuple(value_range)

    def transform(self, results: dict) -> dict:
        """Read the window into ``img``; set ``img_shape`` and ``ori_shape``."""
        try:
            img = read_window(results['img_path'], results['window'], self.bands,
                              self.value_range)
        except Exception as err:  # noqa: BLE001  a bad window must not end the run
            return LoadImageOrRecordError.record_error(
                results, f'cannot read window {tuple(results["window"])} of '
                f'{results["img_path"]}: {type(err).__name__}: {err}')
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(bands={self.bands}, value_range={self.value_range})'
