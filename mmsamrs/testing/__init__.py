"""Helpers shared by the tests and the benchmarks (not needed to use mmsamrs).

- :mod:`~mmsamrs.testing.tiny_models`: the tiny SAM (``TINY_SAM_ARCH``; ``TINY_ARCHS``
  per model family), tiny versions of
  the model-zoo backbones and heads, labelled multi-set batches;
- :mod:`~mmsamrs.testing.prompt_study_data`: small HRSC2016- and iSAID-format sets with
  ground-truth masks, written on the fly;
- :mod:`~mmsamrs.testing.samrs_sets`: a SAMRS set with hand-countable masks, in the
  generator's and the public release's layouts.
- :mod:`~mmsamrs.testing.geo_scenes`: synthetic GeoTIFF scenes (written window by window)
  and their boxes as vector files in another CRS.
- :mod:`~mmsamrs.testing.dota_crops`: small DOTA-format sets cut from a real DOTA image.
- :mod:`~mmsamrs.testing.generation`: one generation run through the Runner, and a hook that
  records which images each rank segmented.
"""
from .tiny_models import (TINY_ARCHS, TINY_BACKBONES, TINY_SAM_ARCH, backbone_name,
                          labelled_batch, shrink_mask2former, shrink_model)

__all__ = [
    'TINY_ARCHS', 'TINY_BACKBONES', 'TINY_SAM_ARCH', 'backbone_name', 'labelled_batch',
    'shrink_mask2former', 'shrink_model'
]
