"""SAMRS pre-training augmentations that mmseg lacks: exact 90-degree rotation, random gamma,
random scaling relative to each image.

The paper's pipeline (random scaling, H and V flips, random 90-degree rotation, colour
jitter, gamma, random 224x224 crop), as the official code applies it, is otherwise mmcv's
and mmseg's. The official code scales each set by its image size (``RandomResize`` with
``scale`` = 1024 SOTA, 800 SIOR, 600 FAST); ``RandomRescale`` does the same for square
images of that size with one pipeline for every set::

    dict(type='RandomApply', prob=0.5, transforms=[dict(
        type='RandomRescale', ratio_range=(0.5, 2.0))]),
    dict(type='RandomCrop', crop_size=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomRotate90', prob=0.5),
    dict(type='RandomApply', prob=0.3, transforms=[dict(type='RandomChoice', transforms=[
        [dict(type='PhotoMetricDistortion')], [dict(type='RandomGamma', prob=1.0)]])]),

(mmseg's ``RandomRotate`` turns by arbitrary angles with interpolation and padding,
``RandomRotFlip`` always flips after its rotation, ``AdjustGamma`` has one fixed gamma.)
"""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform, Resize
from mmcv.transforms.utils import cache_randomness

from mmsamrs.registry import TRANSFORMS


def _check_prob(prob: float) -> float:
    if not 0 <= prob <= 1:
        raise ValueError(f'prob must be in [0, 1], got {prob}')
    return prob


@TRANSFORMS.register_module()
class RandomRotate90(BaseTransform):
    """Rotate the image and its segmentation maps together by ``k * 90`` degrees.

    With probability ``prob`` draw ``k`` uniformly from {0, 1, 2, 3} and turn ``img`` and
    every key of ``seg_fields`` (``gt_seg_map``) counter-clockwise by ``k * 90`` degrees
    (exact, no interpolation); ``img_shape`` follows. Like albumentations'
    ``RandomRotate90`` used by the official SAMRS code.

    Config: ``dict(type='RandomRotate90', prob=0.5)`` after ``LoadAnnotations``.

    Args:
        prob: probability of drawing a rotation.
    """

    def __init__(self, prob: float = 0.5) -> None:
        self.prob = _check_prob(prob)

    @cache_randomness
    def _draw_k(self) -> int:
        return int(np.random.randint(4)) if np.random.rand() < self.prob else 0

    def transform(self, results: dict) -> dict:
        """Rotate ``img`` and the ``seg_fields`` by the same ``k * 90`` degrees."""
        k = self._draw_k()
        if k:
            for key in ['img', *results.get('seg_fields', [])]:
                results[key] = np.ascontiguousarray(np.rot90(results[key], k))
            results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class RandomGamma(BaseTransform):
    """Gamma correction with a random gamma: ``img = 255 * (img / 255) ** gamma``.

    With probability ``prob`` draw ``gamma`` uniformly from ``gamma_range`` (> 1 darkens,
    < 1 brightens; the default range is albumentations' ``gamma_limit=(80, 120)``, used by
    the official SAMRS code). ``uint8`` images stay ``uint8`` (rounded), float images are
    clipped to [0, 255] first and stay float32.

    Config: ``dict(type='RandomGamma', gamma_range=(0.8, 1.2), prob=0.5)``.

    Args:
        gamma_range: ``(low, high)``, both positive.
        prob: probability of applying a gamma.
    """

    def __init__(self, gamma_range: Sequence[float] = (0.8, 1.2), prob: float = 0.5) -> None:
        low, high = gamma_range
        if not 0 < low <= high:
            raise ValueError(f'gamma_range must be (low, high) with 0 < low <= high, '
                             f'got {gamma_range}')
        self.gamma_range = (float(low), float(high))
        self.prob = _check_prob(prob)

    @cache_randomness
    def _draw_gamma(self) -> float:
        return float(np.random.uniform(*self.gamma_range)) if np.random.rand() < self.prob else 1.0

    def transform(self, results: dict) -> dict:
        """Apply the drawn gamma to ``img``."""
        gamma = self._draw_gamma()
        if gamma != 1.0:
            img = results['img']
            if img.dtype == np.uint8:
                table = np.round(255 * (np.arange(256) / 255) ** gamma).astype(np.uint8)
                results['img'] = table[img]
            else:
                scaled = np.clip(img.astype(np.float32), 0, 255) / 255
                results['img'] = (255 * scaled ** gamma).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(gamma_range={self.gamma_range}, prob={self.prob})'


@TRANSFORMS.register_module()
class RandomRescale(BaseTransform):
    """Scale the image and its segmentation maps by a factor drawn uniformly from
    ``ratio_range``, keeping the aspect ratio (mmcv's ``Resize``).

    The reference is each image's own size, so sets of different image sizes share one
    pipeline: on an ``S x S`` image this is mmcv's ``RandomResize(scale=(S, S),
    ratio_range=ratio_range, keep_ratio=True)``.

    Config: ``dict(type='RandomRescale', ratio_range=(0.5, 2.0))``.

    Args:
        ratio_range: ``(low, high)`` scale factors, both positive.
    """

    def __init__(self, ratio_range: Sequence[float] = (0.5, 2.0)) -> None:
        low, high = ratio_range
        if not 0 < low <= high:
            raise ValueError(f'ratio_range must be (low, high) with 0 < low <= high, '
                             f'got {ratio_range}')
        self.ratio_range = (float(low), float(high))

    @cache_randomness
    def _draw_ratio(self) -> float:
        return float(np.random.uniform(*self.ratio_range))

    def transform(self, results: dict) -> dict:
        """Resize ``img`` and the ``seg_fields`` by the drawn factor."""
        ratio = self._draw_ratio()
        height, width = results['img'].shape[:2]
        return Resize(scale=(int(width * ratio), int(height * ratio)), keep_ratio=True)(results)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ratio_range={self.ratio_range})'
