"""mmseg's ``SegLocalVisualizer`` for SAMRS labels (255 = no mask) and instance outlines."""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from mmengine.structures import PixelData
from mmseg.visualization import SegLocalVisualizer

from mmsamrs.datasets.class_names import make_palette
from mmsamrs.registry import VISUALIZERS
from .overlay import (blend_labels, draw_outlines, label_box_position, outline_thickness,
                      present_labels)

#: Padding (image pixels) between a class label's text and the edge of its box.
LABEL_PAD = 2


@VISUALIZERS.register_module()
class SAMRSVisualizer(SegLocalVisualizer):
    """``SegLocalVisualizer`` that leaves unlabelled pixels as they are and draws instances.

    mmseg blends every pixel, so SAMRS's many unlabelled (255) pixels come out darkened;
    here only labelled pixels take ``alpha`` of their class colour (see
    :func:`~mmsamrs.visualization.overlay.blend_labels`), and instance masks can be
    outlined in their class colour. ``add_datasample`` (used by mmseg's visualisation
    hook) draws ground truth and predictions this way.

    Config: ``visualizer = dict(type='SAMRSVisualizer', alpha=0.5,
    vis_backends=[dict(type='LocalVisBackend')])``; classes and palette come from the
    dataset's ``metainfo`` (Runner) or from ``classes``/``palette``.

    Args:
        name: instance name (mmengine's ``ManagerMixin``).
        classes: class names; ``None`` keeps mmseg's default until ``dataset_meta`` is set.
        palette: RGB colour per class; default :func:`~mmsamrs.datasets.class_names.make_palette`.
        alpha: weight of the class colour in labelled pixels.
        **kwargs: passed to ``SegLocalVisualizer`` (``vis_backends``, ``save_dir``, ...).
    """

    def __init__(self, name: str = 'visualizer', classes: Optional[Sequence[str]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None, alpha: float = 0.5,
                 **kwargs) -> None:
        # mmseg 1.2.2's __init__ passes (palette, classes) to set_dataset_meta in swapped
        # order, so they are set here instead
        super().__init__(name=name, alpha=alpha, **kwargs)
        if classes is not None:
            self.set_dataset_meta(
                classes=list(classes),
                palette=[list(c) for c in (palette or make_palette(len(classes)))])

    def draw_samrs(self, image: np.ndarray, label: np.ndarray,
                   instances: Sequence[Tuple[np.ndarray, int]] = (),
                   with_labels: bool = False) -> np.ndarray:
        """Blend ``label`` into ``image`` and outline ``instances``; return the RGB result.

        Args:
            image: ``(H, W, 3)`` ``uint8`` RGB image.
            label: ``(H, W)`` class-index map (255 = no mask).
            instances: ``(mask, label index)`` pairs to outline in the class colour.
            with_labels: also write each class's name (mmseg's ``with_labels``), in a box
                inside the image placed where it covers no labelled pixel (and no other
                name) if there is room, else the fewest, nearest to the class
                (:func:`~mmsamrs.visualization.overlay.label_box_position`).
        """
        classes = self.dataset_meta['classes']
        palette = self.dataset_meta['palette'][:len(classes)]
        drawn = blend_labels(image, label, palette, self.alpha)
        if instances:
            drawn = draw_outlines(drawn, [(m, palette[c]) for m, c in instances],
                                  outline_thickness(label.shape))
        self.set_image(drawn)
        if not with_labels:
            return drawn
        font_size = max(10, round(max(label.shape) / 30))  # readable when shown ~400 px wide
        occupied = label < len(classes)
        for index in present_labels(label, len(classes)):
            width, height = self.text_box_size(classes[index], font_size)
            x, y = label_box_position(occupied, _label_anchor(label == index),
                                      (width, height))
            occupied[y:y + height, x:x + width] = True  # the next labels avoid this one
            self.draw_texts(
                classes[index], np.array([x + LABEL_PAD, y + LABEL_PAD]),
                font_sizes=font_size, colors='white',
                bboxes=dict(facecolor=np.asarray(palette[index]) / 255, alpha=0.8,
                            pad=LABEL_PAD * 72 / self.dpi, edgecolor='none'))
        return self.get_image()

    def text_box_size(self, text: str, font_size: float) -> Tuple[int, int]:
        """``(width, height)`` in image pixels of a class label as :meth:`draw_samrs`
        draws it (text of ``font_size`` points and its padded box), rounded up."""
        width, height, _ = TextToPath().get_text_width_height_descent(
            text, FontProperties(size=font_size), ismath=False)
        scale = self.dpi / 72  # points -> pixels of the drawing canvas
        return (math.ceil(width * scale) + 2 * LABEL_PAD + 2,
                math.ceil(height * scale * 1.25) + 2 * LABEL_PAD + 2)

    def _draw_sem_seg(self, image: np.ndarray, sem_seg: PixelData, classes: Optional[List],
                      palette: Optional[List], with_labels: Optional[bool] = True) -> np.ndarray:
        """mmseg's hook for ground truth and predictions: :meth:`draw_samrs` of the map.

        ``classes`` and ``palette`` are what mmseg passes: this visualizer's ``dataset_meta``,
        which :meth:`draw_samrs` reads itself.
        """
        label = sem_seg.cpu().data[0]
        label = label.numpy() if hasattr(label, 'numpy') else np.asarray(label)
        return self.draw_samrs(image, label.astype(np.uint8), with_labels=bool(with_labels))


def _label_anchor(mask: np.ndarray) -> Tuple[float, float]:
    """``(x, y)`` of the pixel of ``mask`` nearest to its centroid (on the class)."""
    ys, xs = np.nonzero(mask)
    nearest = np.argmin((ys - ys.mean())**2 + (xs - xs.mean())**2)
    return float(xs[nearest]), float(ys[nearest])
