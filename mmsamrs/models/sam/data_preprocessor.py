"""SAM's image preprocessing as an mmengine data preprocessor (batched, on the device)."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmsamrs.registry import MODELS
from .frames import DEFAULT_FRAME, DEFAULT_SIZE, build_frame

SAM_PIXEL_MEAN = (123.675, 116.28, 103.53)
SAM_PIXEL_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class SAMDataPreprocessor(BaseDataPreprocessor):
    """Turn a batch of ``uint8`` images of any sizes into SAM's ``(B, 3, S, S)`` input.

    Per image, on the model's device: ``float``, BGR to RGB (``bgr_to_rgb``), resize into
    the model's input ``frame`` (bilinear, ``antialias=True``): for SAM and HQ-SAM
    (``'longest_side'``) so that the longest side is ``img_size``, exactly as
    :meth:`ResizeLongestSide.apply_image_torch` (target size from
    :meth:`ResizeLongestSide.get_preprocess_shape` of the image's own height and width);
    for SAM 2 (``'square'``) to ``img_size x img_size`` as ``SAM2Transforms``; normalise
    with SAM's pixel mean/std (SAM 2's ImageNet mean/std, times 255) and zero-pad at the
    bottom/right (:meth:`Sam.preprocess`); then stack, so the whole batch goes through
    the image encoder in one pass. Images stay ``uint8`` until they are on the device.
    :class:`SAMGenerator` builds it with its model's frame.

    A data sample carrying ``sam_input_shape`` (set by ``SAMPrompts``) must agree with
    the resized size, as the prompts were computed for it. An image so elongated that a
    side resizes to zero pixels (e.g. 1 x 3000) raises ``ValueError`` naming its file.

    Config (the default of :class:`SAMGenerator`)::

        model = dict(type='SAMGenerator', ...,
                     data_preprocessor=dict(type='SAMDataPreprocessor', bgr_to_rgb=True))

    Args:
        img_size: side of SAM's square input (1024 for the released models).
        frame: ``'longest_side'`` or ``'square'`` (see :mod:`~mmsamrs.models.sam.frames`).
        mean: per-channel mean, in RGB order (SAM's).
        std: per-channel standard deviation, in RGB order (SAM's).
        bgr_to_rgb: flip the channels first (mmcv's loaders give BGR; SAM wants RGB).
        non_blocking: copy to the device asynchronously.
    """

    def __init__(self,
                 img_size: int = DEFAULT_SIZE,
                 frame: str = DEFAULT_FRAME,
                 mean: Sequence[float] = SAM_PIXEL_MEAN,
                 std: Sequence[float] = SAM_PIXEL_STD,
                 bgr_to_rgb: bool = True,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking)
        self.img_size = img_size
        self.frame = build_frame(frame, img_size)
        self.bgr_to_rgb = bgr_to_rgb
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1),
                             False)

    def input_shape(self, height: int, width: int) -> Tuple[int, int]:
        """``(newh, neww)`` of an image of ``height x width`` resized into the frame."""
        return self.frame.input_shape(height, width)

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
            if min(shape) < 1:
                name = 'an image' if sample is None else sample.get('img_path')
                raise ValueError(f'{name}: image of size {tuple(img.shape[-2:])} (H, W) is '
                                 f'too elongated for SAM: its resize to a longest side of '
                                 f'{self.img_size} is {shape}; each side must keep at least '
                                 'one pixel')
            if expected is not None and tuple(expected) != shape:
                raise ValueError(f'{sample.get("img_path")}: image of size '
                                 f'{tuple(img.shape[-2:])} resizes to {shape} in the '
                                 f'model\'s {self.frame.name} frame but its prompts were '
                                 f'made for {tuple(expected)}: set the SAMPrompts step\'s '
                                 f'frame={self.frame.name!r}')
        inputs = torch.stack([self.preprocess(img) for img in data['inputs']])
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
