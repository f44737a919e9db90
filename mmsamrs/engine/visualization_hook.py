"""Visualisation of SEP validation/test predictions on the image the model really saw."""
from typing import Sequence

from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmsamrs.datasets.class_names import FAST_CLASSES, SIOR_CLASSES, SOTA_CLASSES, make_palette
from mmsamrs.registry import HOOKS

SET_CLASSES = dict(SOTA=SOTA_CLASSES, SIOR=SIOR_CLASSES, FAST=FAST_CLASSES)


@HOOKS.register_module()
class SAMRSVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` for mixed SAMRS batches.

    mmseg's hook re-reads each sample's full image from ``img_path``; SEP validation
    predicts on a centre crop, so the drawing would not match the prediction. This hook
    draws on the pipeline's own input image (``data_batch['inputs']``, the crop) and
    colours each sample with its own set's classes and palette (``dataset_name``).

    Config: ``default_hooks=dict(visualization=dict(type='SAMRSVisualizationHook'))``;
    ``tools/test.py --show-dir DIR`` turns drawing on.
    """

    def _after_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence[SegDataSample], mode: str = 'val') -> None:
        """Every ``interval`` iterations, draw each output on its input crop."""
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        for inputs, output in zip(data_batch['inputs'], outputs):
            name = output.metainfo.get('dataset_name')
            classes = SET_CLASSES.get(name, self._visualizer.dataset_meta.get('classes'))
            self._visualizer.set_dataset_meta(
                classes=classes, palette=make_palette(len(classes)), dataset_name=name)
            image = inputs.permute(1, 2, 0).flip(-1).cpu().numpy()  # BGR CHW -> RGB HWC
            stem = output.img_path.rsplit('/', 1)[-1]
            self._visualizer.add_datasample(
                f'{mode}_{name}_{stem}', image, data_sample=output, show=self.show,
                wait_time=self.wait_time, step=runner.iter)
