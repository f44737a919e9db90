"""Visualisation of SEP validation/test predictions on the image the model really saw."""
from typing import Optional, Sequence

from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmsamrs.registry import HOOKS


@HOOKS.register_module()
class SAMRSVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` for mixed SAMRS batches.

    mmseg's hook re-reads each sample's full image from ``img_path``; SEP validation
    predicts on a centre crop, so the drawing would not match the prediction. This hook
    draws on the pipeline's own input image (``data_batch['inputs']``, the crop) and
    colours each sample with its own set's classes and palette (``dataset_name``), from the
    ``metainfo['sets']`` of the evaluated ``SAMRSMultiSetDataset``.

    Config: ``default_hooks=dict(visualization=dict(type='SAMRSVisualizationHook'))``;
    ``tools/test.py --show-dir DIR`` turns drawing on.
    """

    _sets: Optional[dict] = None  # set name -> dict(classes, palette)

    def before_val(self, runner: Runner) -> None:
        """Take the sets (classes, palette) of the validation dataset, if it has sets."""
        self._sets = runner.val_loop.dataloader.dataset.metainfo.get('sets')

    def before_test(self, runner: Runner) -> None:
        """Take the sets (classes, palette) of the test dataset, if it has sets."""
        self._sets = runner.test_loop.dataloader.dataset.metainfo.get('sets')

    def _after_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence[SegDataSample], mode: str = 'val') -> None:
        """Every ``interval`` iterations, draw each output on its input crop (a dataset
        without sets: mmseg's hook)."""
        if not self._sets:
            return super()._after_iter(runner, batch_idx, data_batch, outputs, mode)
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        for inputs, output in zip(data_batch['inputs'], outputs):
            name = output.metainfo.get('dataset_name')
            meta = self._sets[name]
            self._visualizer.set_dataset_meta(
                classes=meta['classes'], palette=meta['palette'], dataset_name=name)
            image = inputs.permute(1, 2, 0).flip(-1).cpu().numpy()  # BGR CHW -> RGB HWC
            stem = output.img_path.rsplit('/', 1)[-1]
            self._visualizer.add_datasample(
                f'{mode}_{name}_{stem}', image, data_sample=output, show=self.show,
                wait_time=self.wait_time, step=runner.iter)
