"""Input frames of the SAM models: how an image and its prompts map to the model's input.

The image encoders take a square ``size x size`` input; the models differ in how the
image gets there:

* ``'longest_side'`` (SAM, HQ-SAM; ``segment_anything``'s :class:`ResizeLongestSide`):
  resized so that its longest side is ``size``, keeping the aspect ratio, then padded at
  the bottom/right; the resized image is ``(newh, neww)``.
* ``'square'`` (SAM 2; ``sam2``'s ``SAM2Transforms``): resized to ``size x size``,
  whatever its aspect ratio; no padding.

Point and box prompts are scaled with the image (``x * neww / W``, ``y * newh / H``);
mask prompts cover the whole ``size x size`` input, padding included.
"""
import copy
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Type

import numpy as np
from segment_anything.utils.transforms import ResizeLongestSide


#: Frame and input side of ``SAMPrompts`` and ``SAMDataPreprocessor`` when not set (SAM's).
DEFAULT_FRAME = 'longest_side'
DEFAULT_SIZE = 1024


class InputFrame:
    """The geometry of one model input frame (see the module docstring).

    Args:
        size: side of the model's square input (1024 for the released models).
    """

    #: Name of the frame in configs (``SAMPrompts(frame=...)``).
    name = ''

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size <= 0:
            raise ValueError(f'the input size must be positive, got {size}')
        self.size = size

    def input_shape(self, height: int, width: int) -> Tuple[int, int]:
        """``(newh, neww)``: the image of ``height x width`` once resized into the frame."""
        raise NotImplementedError

    def apply_coords(self, coords: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
        """Points ``(..., 2)`` (x, y) of an image of ``original_size`` ``(H, W)`` in the
        frame (float64)."""
        height, width = original_size
        newh, neww = self.input_shape(height, width)
        coords = np.array(coords, dtype=np.float64)
        coords[..., 0] *= neww / width
        coords[..., 1] *= newh / height
        return coords

    def apply_boxes(self, boxes: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
        """Boxes ``(N, 4)`` xyxy of an image of ``original_size`` in the frame."""
        boxes = np.asarray(boxes, dtype=np.float64)
        return self.apply_coords(boxes.reshape(-1, 2, 2), original_size).reshape(-1, 4)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'


class LongestSideFrame(InputFrame):
    """SAM's frame: longest side resized to ``size`` (rounded as ``ResizeLongestSide``),
    bottom/right zero padding."""

    name = 'longest_side'

    def input_shape(self, height: int, width: int) -> Tuple[int, int]:
        """``ResizeLongestSide.get_preprocess_shape`` of the image."""
        return ResizeLongestSide.get_preprocess_shape(height, width, self.size)


class SquareFrame(InputFrame):
    """SAM 2's frame: the image resized to ``size x size``."""

    name = 'square'

    def input_shape(self, height: int, width: int) -> Tuple[int, int]:
        """Always ``(size, size)``."""
        return self.size, self.size


#: The frames by config name.
FRAMES: Dict[str, Type[InputFrame]] = {
    frame.name: frame for frame in (LongestSideFrame, SquareFrame)}


def build_frame(name: str, size: int = DEFAULT_SIZE) -> InputFrame:
    """The frame called ``name`` (``'longest_side'`` or ``'square'``) of side ``size``."""
    if name not in FRAMES:
        raise ValueError(f'unknown input frame {name!r}; use one of {sorted(FRAMES)}')
    return FRAMES[name](size)


def pipeline_in_frame(pipeline: Sequence[Mapping[str, Any]],
                      frame: InputFrame) -> List[Dict[str, Any]]:
    """A copy of a pipeline config whose ``SAMPrompts`` steps make prompts in ``frame``.

    ``frame`` and ``target_length`` are set only on steps whose own (or default) values
    differ, so a pipeline already in the frame comes back equal (a SAM run's pinned
    settings do not change).
    """
    steps = []
    for step in pipeline:
        step = copy.deepcopy(dict(step))
        if str(step.get('type')).split('.')[-1] == 'SAMPrompts':
            if step.get('frame', DEFAULT_FRAME) != frame.name:
                step['frame'] = frame.name
            if step.get('target_length', DEFAULT_SIZE) != frame.size:
                step['target_length'] = frame.size
        steps.append(step)
    return steps
