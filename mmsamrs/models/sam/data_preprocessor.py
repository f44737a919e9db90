"""SAM's image preprocessing as an mmengine data preprocessor (batched, on the device)."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from segment_anything.utils.transforms import ResizeLongestSide
from torch import Tensor

from mmsamrs.registry import MODELS

SAM_PIXEL_MEAN = (123.675, 116.28, 103.53)
SAM_PIXEL_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class SAMDataPreprocessor(BaseDataPreprocessor):
    """Turn a batch of ``uint8`` images of any sizes into SAM's ``(B, 3, S, S)`` input.

    Per image, on the model's device: ``float``, BGR to RGB (``bgr_to_rgb``), resize so
    that the longest side is ``img_size`` exactly as
    :meth:`ResizeLongestSide.apply_image_torch` (bilinear, ``antialias=True``; target
    size from :meth:`ResizeLongestSide.get_preprocess_shape` of the image's own height
    and width), normalise with SAM's pixel mean/std and zero-pad at the bottom/right
    (:meth:`Sam.preprocess`); then stack, so the whole batch goes through the image
    encoder in one pass. Images stay ``uint8`` until they are on the device.

    A data sample carrying ``sam_input_shape`` (set by ``SAMPrompts``) must agree with
    the resized size, as the prompts were computed for it.

    Config (the default of :class:`SAMGenerator`)::

        model = dict(type='SAMGenerator', ...,
                     data_preprocessor=dict(type='SAMDataPreprocessor', bgr_to_rgb=True))

    Args:
        img_size: side of SAM's square input (1024 for the released models).
        mean: per-channel mean, in RGB order (SAM's).
        std: per-channel standard deviation, in RGB order (SAM's).
        bgr_to_rgb: flip the channels first (mmcv's loaders give BGR; SAM wants RGB).
        non_blocking: copy to the device asynchronously.
    """

    def __init__(self,
                 img_size: int = 1024,
                 mean: Sequence[float] = SAM_PIXEL_MEAN,
                 std: Sequence[float] = SAM_PIXEL_STD,
                 bgr_to_rgb: bool = True,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking)
        self.img_size = img_size
        self.bgr_to_rgb = bgr_to_rgb
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1),
                             False)

    def input_shape(self, height: int, width: int) -> Tuple[int, int]:
        """``(newh, neww)`` of an image of ``height x width`` after SAM's resize."""
        return ResizeLongestSide.get_preprocess_shape(height, width, self.img_size)

    def preprocess(self, img: Tensor) -> Tensor:
        """One ``(3, H, W)`` image to SAM's normalised, padded ``(3, S, S)`` input."""
        img = img.float()
        if self.bgr_to_rgb:
            img = img.flip(0)
        newh, neww = self.input_shape(*img.shape[-2:])
        img = F.interpolate(img[None], (newh, neww), mode='bilinear', align_corners=False,
                            antialias=True)[0]
        img = (img - self.mean) / self.std
        return F.pad(img, (0, self.img_size - neww, 0, self.img_size - newh))

    def forward(self, data: dict, training: bool = False) -> dict:
        """Move ``data`` to the device and return ``inputs`` as one ``(B, 3, S, S)`` batch."""
        data = self.cast_data(data)
        samples = data.get('data_samples') or [None] * len(data['inputs'])
        for img, sample in zip(data['inputs'], samples):
            expected = None if sample is None else sample.get('sam_input_shape')
            shape = self.input_shape(*img.shape[-2:])
            if expected is not None and tuple(expected) != shape:
                raise ValueError(f'{sample.get("img_path")}: image of size '
                                 f'{tuple(img.shape[-2:])} resizes to {shape} but its '
                                 f'prompts were made for {tuple(expected)}')
        inputs = torch.stack([self.preprocess(img) for img in data['inputs']])
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
