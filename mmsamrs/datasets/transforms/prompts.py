"""SAM prompts from detection boxes (SAMRS paper, section 2.3).

Six basic prompts are computed per instance, already in the model's input frame (SAM,
HQ-SAM: the image resized so that its longest side is ``target_length`` with
segment_anything's :class:`ResizeLongestSide`, then padded at the bottom/right to a
square; SAM 2: resized to a ``target_length`` square; see
:mod:`mmsamrs.models.sam.frames`):

========== ============== ==========================================================
paper      name here      what
========== ============== ==========================================================
CP         ``cp``         centre of the instance's box, one foreground point
H-Box      ``hbox``       the horizontal box ``bbox``
RH-Box     ``rhbox``      circumscribed horizontal box of the R-Box, clipped to the image
H-Box-M    ``hbox_mask``  mask prompt: inside the H-Box +v, elsewhere -v
R-Box-M    ``rbox_mask``  mask prompt: inside the rotated box +v, elsewhere -v
RH-Box-M   ``rhbox_mask`` mask prompt: inside the RH-Box +v, elsewhere -v
========== ============== ==========================================================

A setting combines at most one point, one box and one mask prompt (Table 1 of the paper
studies 15 such settings). The rotated box of an instance is its ``qbox`` (the four
annotated corners) when present, else the corners of its ``rbox``.
"""
import math
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmsamrs.models.sam.frames import DEFAULT_FRAME, DEFAULT_SIZE, build_frame
from mmsamrs.registry import TRANSFORMS
from mmsamrs.structures.boxes import clip_hboxes, rasterize_quads, rbox_to_quad

POINT_PROMPTS = ('cp', )
BOX_PROMPTS = ('hbox', 'rhbox')
MASK_PROMPTS = ('hbox_mask', 'rbox_mask', 'rhbox_mask')
PROMPT_NAMES = POINT_PROMPTS + BOX_PROMPTS + MASK_PROMPTS
#: Prompts that need the instance's rotated box (``qbox`` or ``rbox``).
ROTATED_PROMPTS = ('rhbox', 'rbox_mask', 'rhbox_mask')

# Spellings accepted by :func:`parse_prompt_setting`, keyed by the name lower-cased with
# '-' and '_' removed: the paper's ('H-Box-M') and ours ('hbox_mask').
_ALIASES = {
    'cp': 'cp',
    'hbox': 'hbox',
    'rhbox': 'rhbox',
    'hboxm': 'hbox_mask',
    'hboxmask': 'hbox_mask',
    'rboxm': 'rbox_mask',
    'rboxmask': 'rbox_mask',
    'rhboxm': 'rhbox_mask',
    'rhboxmask': 'rhbox_mask',
}


def parse_prompt_setting(setting: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """Normalise a prompt setting to a tuple of prompt names (point, box, mask order).

    ``setting`` is a '+'-joined string in the paper's spelling or ours, or a sequence of
    names, e.g. ``parse_prompt_setting('CP+RH-Box+RH-Box-M') == ('cp', 'rhbox',
    'rhbox_mask')``. Raises ``ValueError`` for an unknown name, a repeated name, an empty
    setting, or more than one point, box or mask prompt.
    """
    tokens = setting.split('+') if isinstance(setting, str) else list(setting)
    names = []
    for token in tokens:
        if not isinstance(token, str):
            raise ValueError(f'prompt names must be strings, got {token!r} in {setting!r}')
        key = token.strip().lower().replace('-', '').replace('_', '')
        if key == 'rbox':
            raise ValueError(
                f'{token!r} in {setting!r}: SAM has no rotated-box prompt; use RH-Box '
                "('rhbox', its circumscribed horizontal box) or R-Box-M ('rbox_mask')")
        if key not in _ALIASES:
            raise ValueError(
                f'unknown prompt {token!r} in {setting!r}; valid: {", ".join(PROMPT_NAMES)} '
                '(or the paper spelling CP, H-Box, RH-Box, H-Box-M, R-Box-M, RH-Box-M)')
        names.append(_ALIASES[key])
    if not names:
        raise ValueError('a prompt setting needs at least one prompt')
    if len(set(names)) != len(names):
        raise ValueError(f'repeated prompt in {setting!r}')
    for group, kind in ((POINT_PROMPTS, 'point'), (BOX_PROMPTS, 'box'),
                        (MASK_PROMPTS, 'mask')):
        chosen = [n for n in names if n in group]
        if len(chosen) > 1:
            raise ValueError(
                f'{setting!r} combines {chosen}: SAM takes at most one {kind} prompt '
                'per instance')
    return tuple(n for n in PROMPT_NAMES if n in names)


@TRANSFORMS.register_module()
class SAMPrompts(BaseTransform):
    """Compute SAM prompts for every instance, in SAM's input frame.

    Used in a generation pipeline after the image and annotations are loaded::

        dict(type='SAMPrompts', prompts=('rhbox',))        # FAIR1M (R-Box only)
        dict(type='SAMPrompts', prompts='CP+H-Box+H-Box-M')  # paper spelling

    Required keys: ``instances`` (each with ``bbox``; ``qbox`` or ``rbox`` for the
    R-Box-based prompts) and ``img_shape`` (or ``height``/``width``).
    Added keys (row ``i`` belongs to ``instances[i]``; ``N`` may be 0):

    - ``sam_input_shape``: ``(newh, neww)``, the image size after the resize into the
      frame.
    - ``prompt_points`` float32 ``(N, 1, 2)`` and ``prompt_point_labels`` int64
      ``(N, 1)`` (all 1, foreground), with ``cp``. The point is the centre of the
      H-Box, or, when the setting uses the rotated box (``rhbox``, ``rbox_mask``,
      ``rhbox_mask``), the centre of the rotated box (mean of its corners); it is
      clipped to the image.
    - ``prompt_boxes`` float32 ``(N, 4)`` xyxy, with ``hbox`` or ``rhbox``.
    - ``prompt_masks`` float32 ``(N, 1, mask_size, mask_size)``, with a mask prompt.

    Mask prompts: the box is rasterised in the resized ``(newh, neww)`` image with
    :func:`~mmsamrs.structures.boxes.rasterize_quads`, padded at the bottom
    and right to ``target_length`` squared with "outside", then reduced by area
    averaging to ``mask_size`` squared; a cell is ``+mask_value`` when at least half
    its area is inside, else ``-mask_value`` (so only the two values occur, and the
    padding is ``-mask_value``). Objects smaller than about one cell
    (``target_length / mask_size`` pixels of the resized image) can vanish.

    Args:
        prompts: prompt names (see :data:`PROMPT_NAMES`) or a setting string such as
            ``'CP+RH-Box'``; normalised by :func:`parse_prompt_setting`.
        target_length: side of the model's square input (1024 for the released models).
        frame: the model's input frame, ``'longest_side'`` (SAM, HQ-SAM) or ``'square'``
            (SAM 2); the prompt study sets it from each model (``SAMGenerator.frame``).
        mask_size: side of SAM's low-resolution mask input (256); must divide
            ``target_length``.
        mask_value: magnitude of the mask logits (1000 in the paper).
    """

    def __init__(self,
                 prompts: Union[str, Sequence[str]] = ('hbox', ),
                 target_length: int = DEFAULT_SIZE,
                 mask_size: int = 256,
                 mask_value: float = 1000.0,
                 frame: str = DEFAULT_FRAME) -> None:
        self.prompts = parse_prompt_setting(prompts)
        if target_length <= 0 or mask_size <= 0 or target_length % mask_size:
            raise ValueError(
                f'mask_size ({mask_size}) must be a positive divisor of target_length '
                f'({target_length})')
        if not mask_value > 0:
            raise ValueError(f'mask_value must be positive, got {mask_value}')
        self.target_length = target_length
        self.mask_size = mask_size
        self.mask_value = float(mask_value)
        self.frame = build_frame(frame, target_length)

    def transform(self, results: Dict) -> Dict:
        """Add ``sam_input_shape`` and the requested prompt arrays to ``results``."""
        height, width = self._image_shape(results)
        instances = results.get('instances')
        if instances is None:
            raise KeyError(f"{self._image_name(results)}: results have no 'instances'")
        num = len(instances)
        hboxes = self._hboxes(instances, results)
        quads = None
        if any(p in ROTATED_PROMPTS for p in self.prompts):
            quads = self._rotated_quads(instances, results)
        rhboxes = None
        if quads is not None:
            rhboxes = clip_hboxes(
                np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1), width,
                height)
        original_size = (height, width)
        results['sam_input_shape'] = self.frame.input_shape(height, width)

        if 'cp' in self.prompts:
            if quads is not None:
                centres = quads.mean(axis=1)
            else:
                centres = (hboxes[:, :2] + hboxes[:, 2:]) / 2
            centres = np.clip(centres, 0, [width, height])
            results['prompt_points'] = self.frame.apply_coords(
                centres.reshape(num, 1, 2), original_size).astype(np.float32)
            results['prompt_point_labels'] = np.ones((num, 1), dtype=np.int64)

        box_prompt = next((p for p in self.prompts if p in BOX_PROMPTS), None)
        if box_prompt is not None:
            boxes = hboxes if box_prompt == 'hbox' else rhboxes
            results['prompt_boxes'] = self.frame.apply_boxes(
                boxes, original_size).astype(np.float32)

        mask_prompt = next((p for p in self.prompts if p in MASK_PROMPTS), None)
        if mask_prompt is not None:
            if mask_prompt == 'rbox_mask':
                mask_quads = quads
            else:
                boxes = hboxes if mask_prompt == 'hbox_mask' else rhboxes
                mask_quads = boxes[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 4, 2)
            mask_quads = self.frame.apply_coords(mask_quads, original_size)
            results['prompt_masks'] = self._mask_logits(mask_quads,
                                                        results['sam_input_shape'])
        return results

    def _mask_logits(self, quads: np.ndarray, input_shape: Tuple[int, int]) -> np.ndarray:
        """Mask prompts ``(N, 1, m, m)`` of quads ``(N, 4, 2)`` given in SAM's frame.

        Equivalent to rasterising each quad on the whole padded ``target_length`` square
        and area-resizing to ``m``; only the block-aligned window around the quad is
        rasterised, which keeps the cost proportional to the object's size.
        """
        m, f, v = self.mask_size, self.target_length // self.mask_size, self.mask_value
        newh, neww = input_shape
        logits = np.full((len(quads), 1, m, m), -v, dtype=np.float32)
        for logit, quad in zip(logits, quads):
            x0, y0 = (max(math.floor(c / f), 0) for c in quad.min(axis=0))
            x1, y1 = (min(math.ceil(c / f), m) for c in quad.max(axis=0))
            if x1 <= x0 or y1 <= y0:
                continue
            inside = rasterize_quads(quad - [x0 * f, y0 * f], ((y1 - y0) * f,
                                                               (x1 - x0) * f))[0]
            inside[max(newh - y0 * f, 0):] = False  # padding below the image
            inside[:, max(neww - x0 * f, 0):] = False  # padding right of the image
            fraction = inside.reshape(y1 - y0, f, x1 - x0, f).mean(axis=(1, 3))
            logit[0, y0:y1, x0:x1] = np.where(fraction >= 0.5, v, -v)
        return logits

    @staticmethod
    def _image_name(results: Dict) -> str:
        return str(results.get('img_path', results.get('img_id', '<unknown image>')))

    def _image_shape(self, results: Dict) -> Tuple[int, int]:
        if 'img_shape' in results:
            height, width = results['img_shape'][:2]
        elif 'height' in results and 'width' in results:
            height, width = results['height'], results['width']
        else:
            raise KeyError(f"{self._image_name(results)}: results have neither 'img_shape' "
                           "nor 'height'/'width'; load the image first")
        return int(height), int(width)

    def _hboxes(self, instances: List[Dict], results: Dict) -> np.ndarray:
        """H-Boxes ``(N, 4)`` float64 of the instances."""
        for i, instance in enumerate(instances):
            if 'bbox' not in instance:
                raise KeyError(f"{self._image_name(results)}: instance {i} has no 'bbox'")
        return np.array([inst['bbox'] for inst in instances], dtype=np.float64).reshape(-1, 4)

    def _rotated_quads(self, instances: List[Dict], results: Dict) -> np.ndarray:
        """Corners ``(N, 4, 2)`` of each instance's rotated box (``qbox``, else ``rbox``)."""
        quads = np.zeros((len(instances), 4, 2), dtype=np.float64)
        for i, instance in enumerate(instances):
            if instance.get('qbox') is not None:
                quads[i] = np.asarray(instance['qbox'], dtype=np.float64).reshape(4, 2)
            elif instance.get('rbox') is not None:
                quads[i] = rbox_to_quad(instance['rbox']).reshape(4, 2)
            else:
                needed = [p for p in self.prompts if p in ROTATED_PROMPTS]
                raise KeyError(
                    f'{self._image_name(results)}: instance {i} has no rotated box '
                    f"('qbox' or 'rbox'), needed by the prompts {needed}; a source with "
                    "horizontal boxes only can use 'hbox' / 'hbox_mask'")
        return quads

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prompts={self.prompts}, '
                f'target_length={self.target_length}, mask_size={self.mask_size}, '
                f'mask_value={self.mask_value}, frame={self.frame.name!r})')
