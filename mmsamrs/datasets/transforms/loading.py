"""Image loading that reports a bad image instead of stopping a generation run."""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile

from mmsamrs.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImageOrRecordError(LoadImageFromFile):
    """Load an image like mmcv's ``LoadImageFromFile``; on failure record it and go on.

    A missing, unreadable or corrupt image file, or one whose size disagrees with the
    size its annotation gives (``height``/``width``), does not raise: the sample gets
    ``results['load_error']`` (a message naming the file), a 1x1 placeholder image and no
    instances, so the generation loop reports it as a failure and continues with the next
    image. Config: ``dict(type='LoadImageOrRecordError')`` as the first pipeline step.
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']``, or mark the sample as failed."""
        filename = results['img_path']
        try:
            loaded = super().transform(results)
        except Exception as e:  # noqa: BLE001  any decoder/IO error is a bad input here
            detail = str(e) if filename in str(e) else f'{filename}: {e}'
            return self.record_error(results, f'cannot read image {detail}')
        expected = (results.get('height'), results.get('width'))
        if None not in expected and tuple(loaded['img_shape']) != expected:
            return self.record_error(
                results, f'image {filename} is {loaded["img_shape"][1]}x'
                f'{loaded["img_shape"][0]} (WxH) but its annotation says '
                f'{expected[1]}x{expected[0]}')
        return loaded

    @staticmethod
    def record_error(results: dict, message: str) -> dict:
        """Replace the sample by a placeholder carrying ``load_error``."""
        results['load_error'] = message
        results['img'] = np.zeros((1, 1, 3), dtype=np.uint8)
        results['img_shape'] = (1, 1)
        results['ori_shape'] = (1, 1)
        results['instances'] = []
        return results
