"""Packing a generation sample (image, SAM prompts, instances) for the SAM model."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmsamrs.registry import TRANSFORMS

#: Prompt arrays written by ``SAMPrompts`` (row ``i`` belongs to ``instances[i]``).
PROMPT_KEYS = ('prompt_points', 'prompt_point_labels', 'prompt_boxes', 'prompt_masks')
#: Ground-truth masks written by ``LoadInstanceMasks`` (kept as numpy, on the CPU).
GT_MASK_KEYS = ('gt_mask_crops', 'gt_mask_offsets')


@TRANSFORMS.register_module()
class PackSAMInputs(BaseTransform):
    """Pack the image, SAM prompts and instances for ``SAMGenerator``.

    Last step of a generation pipeline::

        pipeline = [dict(type='LoadImageOrRecordError'),
                    dict(type='SAMPrompts', prompts=('hbox', )),
                    dict(type='PackSAMInputs')]

    Returns ``inputs``: the image as a ``uint8`` ``(3, H, W)`` tensor (channel order
    unchanged; colour conversion, resizing and normalisation happen on the device in
    ``SAMDataPreprocessor``), and ``data_samples``: a ``BaseDataElement`` with

    - metainfo: ``meta_keys`` (``img_id``, ``img_path``, ``ori_shape``,
      ``sam_input_shape``) and ``load_error`` when the image failed to load;
    - data fields: the prompt tensors present (``prompt_points`` float32 ``(N, 1, 2)``,
      ``prompt_point_labels`` int64 ``(N, 1)``, ``prompt_boxes`` float32 ``(N, 4)``,
      ``prompt_masks`` float32 ``(N, 1, 256, 256)``), ``labels`` int64 ``(N,)``,
      ``hboxes`` float32 ``(N, 4)`` (each instance's ``bbox``), ``rboxes`` float32
      ``(N, 5)`` when every instance has an ``rbox`` (absent otherwise), and
      ``instance_ids`` int64 ``(N,)``: each instance's index in annotation order; and,
      when ``LoadInstanceMasks`` ran, ``gt_mask_crops`` (list of ``N`` boolean arrays) and
      ``gt_mask_offsets`` int64 ``(N, 2)``, left as numpy so they stay on the CPU.

    Args:
        meta_keys: keys of ``results`` copied into the metainfo (all required).
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_id', 'img_path', 'ori_shape',
                                             'sam_input_shape')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        """Pack ``results`` into ``dict(inputs=..., data_samples=...)``."""
        name = results.get('img_path', results.get('img_id'))
        missing = [k for k in self.meta_keys + ('img', 'instances') if k not in results]
        if missing:
            raise KeyError(f'{name}: results lack {missing}; run the image loader and '
                           'SAMPrompts before PackSAMInputs')
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'{name}: expected an (H, W, 3) image, got {img.shape}')
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))

        metainfo = {k: results[k] for k in self.meta_keys}
        if results.get('load_error') is not None:
            metainfo['load_error'] = results['load_error']
        sample = BaseDataElement(metainfo=metainfo)
        instances = results['instances']
        num = len(instances)
        for key in PROMPT_KEYS + GT_MASK_KEYS:
            if key in results:
                value = results[key]
                if key in PROMPT_KEYS:
                    value = torch.from_numpy(np.ascontiguousarray(value))
                if len(value) != num:
                    raise ValueError(f'{name}: {key} has {len(value)} rows for {num} instances')
                sample.set_data({key: value})
        sample.labels = torch.tensor([inst['bbox_label'] for inst in instances],
                                     dtype=torch.int64)
        sample.hboxes = torch.tensor([inst['bbox'] for inst in instances],
                                     dtype=torch.float32).reshape(num, 4)
        with_rbox = sum('rbox' in inst for inst in instances)
        if with_rbox not in (0, num):
            raise ValueError(f'{name}: {with_rbox} of {num} instances have an rbox; '
                             'all or none must')
        if num and with_rbox:
            sample.rboxes = torch.tensor([inst['rbox'] for inst in instances],
                                         dtype=torch.float32).reshape(num, 5)
        sample.instance_ids = torch.arange(num, dtype=torch.int64)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
