"""Loading the ground-truth instance masks of a source that has them (HRSC2016, iSAID)."""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmsamrs.datasets.sources.isaid import code_crops, read_rgb_codes, rgb_codes
from mmsamrs.registry import TRANSFORMS
from .loading import LoadImageOrRecordError


@TRANSFORMS.register_module()
class LoadInstanceMasks(BaseTransform):
    """Load each instance's ground-truth mask as a tight crop (for the prompt study).

    Used after the image loader in a pipeline whose metric needs ground truth::

        dict(type='LoadImageOrRecordError'),
        dict(type='LoadInstanceMasks'),
        dict(type='SAMPrompts', prompts='H-Box'),
        dict(type='PackSAMInputs'),  # packs the two keys below

    The RGB mask image is ``results['seg_map_path']``; an instance's pixels are those whose
    code ``R + 256 * G + 65536 * B`` equals its ``instance_id`` (iSAID-style instance-id
    PNGs, :class:`~mmsamrs.datasets.sources.ISAIDInstanceDataset`) or the code of its
    ``seg_color`` ``(r, g, b)`` (HRSC2016, :class:`~mmsamrs.datasets.sources.HRSCDataset`).

    Added keys: ``gt_mask_crops`` (one boolean array per instance, its mask inside its
    bounding window) and ``gt_mask_offsets`` int64 ``(N, 2)`` (``x0, y0`` of each crop), the
    same layout as SAM's results, so memory grows with the objects, not the image. An
    instance has no ground truth (``0 x 0`` crop) when the image has no ``seg_map_path``,
    the instance has neither ``instance_id`` nor ``seg_color`` (or it is None), or no pixel
    has its code. A mask image that cannot be read or whose size differs from the image's
    turns the sample into a failed one (``load_error``, see ``LoadImageOrRecordError``).
    """

    def transform(self, results: Dict) -> Dict:
        """Add ``gt_mask_crops`` and ``gt_mask_offsets`` for ``results['instances']``."""
        path = results.get('seg_map_path')
        codes = None
        if results.get('load_error') is None and path is not None:
            codes = self._read(results, path)
        instances = results['instances']
        if codes is None:
            crops = [np.zeros((0, 0), dtype=bool) for _ in instances]
            offsets = np.zeros((len(instances), 2), dtype=np.int64)
        else:
            crops, offsets = code_crops(codes, [self._code(inst) for inst in instances])
        results['gt_mask_crops'] = crops
        results['gt_mask_offsets'] = offsets
        return results

    @staticmethod
    def _read(results: Dict, path: str) -> Optional[np.ndarray]:
        """The mask codes of the image, or None after recording why they are unusable."""
        try:
            codes = read_rgb_codes(path)
        except (OSError, ValueError) as err:
            LoadImageOrRecordError.record_error(
                results, f'cannot read instance masks {path}: {err}')
            return None
        height, width = results['img_shape'][:2]
        if codes.shape != (height, width):
            LoadImageOrRecordError.record_error(
                results, f'instance masks {path} are {codes.shape[1]}x{codes.shape[0]} '
                f'(WxH) but the image is {width}x{height}')
            return None
        return codes

    @staticmethod
    def _code(instance: Dict) -> Optional[int]:
        """The mask code of an instance: its ``instance_id`` or its ``seg_color``'s code."""
        if instance.get('instance_id') is not None:
            return int(instance['instance_id'])
        if instance.get('seg_color') is not None:
            return int(rgb_codes(instance['seg_color']))
        return None
