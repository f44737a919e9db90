"""The prompt study as a runner loop: several prompt settings, one encoder pass per image,
for one model or several."""
import copy
import time
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.dist import collect_results, is_main_process
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmengine.utils import ProgressBar

from mmsamrs.evaluation.metrics.instance_iou import InstanceIoUMetric
from mmsamrs.evaluation.prompt_study import (TABLE_METRICS, find_prompt_step, image_masks,
                                             order_settings, write_report, write_setting_masks)
from mmsamrs.models.sam import SAM_ARCHS, encoder_sizes
from mmsamrs.registry import LOOPS, MODELS, TRANSFORMS


def keep_results(batch: List[dict]) -> List[dict]:
    """Collate function that keeps a batch as the list of its pipeline results."""
    return batch


@LOOPS.register_module()
class PromptStudyLoop(BaseLoop):
    """SAM under several prompt settings on data with ground-truth masks (paper Table 1),
    for one model or several (SAM, HQ-SAM, SAM 2.1).

    Config (``tools/eval_prompts.py`` writes it from the settings' configs, see
    :func:`~mmsamrs.evaluation.prompt_study.study_config`)::

        test_cfg = dict(type='PromptStudyLoop', settings=['CP', 'H-Box', 'RH-Box'],
                        models=[dict(name='vit_b', model=dict(type='SAMGenerator', ...)),
                                dict(name='sam2.1_hiera_t', model=dict(...))])
        test_evaluator = dict(type='InstanceIoUMetric')

    The dataset pipeline must have one ``SAMPrompts`` step. The steps before it (image and
    ground-truth loading) run once per image and model in the dataloader workers; then,
    per batch, the image encoder runs once (:meth:`SAMGenerator.embed`) and every setting
    gets its own copy of each image's results, the ``SAMPrompts`` step with that setting's
    ``prompts`` in the model's input frame (``SAMGenerator.frame``), the steps after it
    (``PackSAMInputs``) and the mask decoder on the shared embeddings
    (:meth:`SAMGenerator.decode`). Prompts are made one setting at a time, so memory does
    not grow with the number of settings. Without ``models`` the runner's model is
    studied (named by its arch); with them the first is the runner's model and each
    other one is built when its turn comes (one model in memory at a time), on the
    runner's model's device. Each model and setting has its own evaluator built from
    ``test_evaluator`` (its logged per-class table is titled with both); the encoder and
    decoder time of each model is measured (device synchronised). At the end the report
    (Markdown table in Table 1's layout with a column group per model, CSV, JSON, bar
    plot, per-instance CSV, timing) is written to ``out_dir`` and logged. With
    ``save_masks`` every setting's predicted masks are written for auditing, as COCO
    instances with RLE masks, to ``out_dir/masks/<setting>.json``
    (``masks/<model>/<setting>.json`` for several models; see
    :func:`~mmsamrs.evaluation.prompt_study.setting_masks`).

    Args:
        runner: the runner.
        dataloader: dataloader config of the dataset with ground-truth masks.
        evaluator: evaluator config; must contain an ``InstanceIoUMetric`` (no prefix).
        settings: prompt settings (paper or mmsamrs spelling; ``'table1'``: all 15 rows),
            run in Table 1's order.
        models: ``dict(name=..., model=<model config>)`` per model (see
            :func:`~mmsamrs.evaluation.prompt_study.study_models`); ``None``: the
            runner's model.
        out_dir: report directory; defaults to the runner's ``work_dir``.
        save_masks: also write each setting's predicted masks (COCO RLE).
    """

    def __init__(self, runner, dataloader: Dict, evaluator: Union[Dict, List],
                 settings: Sequence[str], models: Optional[Sequence[Dict]] = None,
                 out_dir: Optional[str] = None, save_masks: bool = False) -> None:
        if not isinstance(dataloader, dict):
            raise TypeError('PromptStudyLoop needs the dataloader as a config dict')
        dataloader = copy.deepcopy(dataloader)
        pipeline = list(dataloader['dataset']['pipeline'])
        self.prompt_index = find_prompt_step(pipeline)
        self.prompt_step = pipeline[self.prompt_index]
        self.settings = order_settings(settings)
        self.pack = Compose([TRANSFORMS.build(step) for step in pipeline[self.prompt_index + 1:]])
        dataloader['dataset']['pipeline'] = pipeline[:self.prompt_index]
        dataloader['collate_fn'] = keep_results
        dataloader['sampler'] = dict(type='DefaultSampler', shuffle=False, round_up=False)
        super().__init__(runner, dataloader)
        self.models = list(models) if models else [
            dict(name=self._model_name(self.runner_model.arch), model=None)]
        self.out_dir = out_dir or runner.work_dir
        self.save_masks = save_masks
        self.evaluators: Dict[str, Dict[str, Evaluator]] = {}
        self.predictions: Dict[str, Dict[str, List[dict]]] = {}
        self.timing: Dict[str, Dict[str, float]] = {}
        for entry in self.models:
            model_name = entry['name']
            prefix = '' if len(self.models) == 1 else f'model {model_name}, '
            self.predictions[model_name] = {name: [] for name in self.settings}
            self.evaluators[model_name] = {}
            for name in self.settings:
                built = runner.build_evaluator(copy.deepcopy(evaluator))
                built.dataset_meta = self.dataloader.dataset.metainfo
                for metric in built.metrics:
                    if isinstance(metric, InstanceIoUMetric):
                        metric.title = f'{prefix}setting {name}: per-class instance IoU'
                self.evaluators[model_name][name] = built

    @property
    def runner_model(self) -> torch.nn.Module:
        """The runner's model, unwrapped."""
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    @staticmethod
    def _model_name(arch: Any) -> str:
        """A released arch's name, else ``'model'``."""
        names = [name for name in SAM_ARCHS if encoder_sizes(name) == arch]
        return names[0] if names else 'model'

    def run(self) -> Dict[str, float]:
        """Run every setting of every model on every image; write and log the report;
        return all metrics as ``'<setting>/<metric>'`` (``'<model>/<setting>/<metric>'``
        for several models)."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        for index, entry in enumerate(self.models):
            model = self.runner_model
            if index:  # the runner's model serves the first entry
                model = MODELS.build(entry['model']).to(next(model.parameters()).device)
            self.run_model(entry['name'], model.eval())
            del model
        rows, per_instance, metrics = {}, {}, {}
        for model_name, evaluators in self.evaluators.items():
            prefix = '' if len(self.models) == 1 else f'{model_name}/'
            rows[model_name], per_instance[model_name] = {}, {}
            for name, evaluator in evaluators.items():
                row = rows[model_name][name] = evaluator.evaluate(len(self.dataloader.dataset))
                missing = [m for m in TABLE_METRICS if m not in row]
                if missing:
                    raise KeyError(f'test_evaluator gave no {missing}; the prompt study needs '
                                   "dict(type='InstanceIoUMetric') without prefix")
                per_instance[model_name][name] = [
                    record for metric in evaluator.metrics
                    for record in getattr(metric, 'per_instance', [])]
                metrics.update({f'{prefix}{name}/{key}': value for key, value in row.items()})
        if self.save_masks:
            self.write_masks()
        if is_main_process():
            markdown = write_report(self.out_dir, rows, per_instance, self.timing)
            self.runner.logger.info(f'prompt study (reports in {self.out_dir}):\n{markdown}')
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def run_model(self, model_name: str, model: torch.nn.Module) -> None:
        """All settings of one model on every image, timed."""
        self.timing[model_name] = dict(images=0, encoder_s=0.0, decoder_s=0.0)
        prompt_steps = {
            name: TRANSFORMS.build(dict(self.prompt_step, prompts=name, frame=model.frame.name,
                                        target_length=model.frame.size))
            for name in self.settings}
        progress = ProgressBar(len(self.dataloader.sampler)) if is_main_process() else None
        for idx, batch in enumerate(self.dataloader):
            self.run_iter(idx, batch, model_name, model, prompt_steps)
            if progress is not None:
                progress.update(len(batch))

    @torch.no_grad()
    def run_iter(self, idx: int, batch: List[dict], model_name: str, model: torch.nn.Module,
                 prompt_steps: Dict[str, Any]) -> None:
        """Encode the batch's images once, then decode and evaluate every setting."""
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=batch)
        timing = self.timing[model_name]
        timing['images'] += len(batch)
        device = next(model.parameters()).device
        embeddings = None
        outputs = {}
        for name, prompt_step in prompt_steps.items():
            data = pseudo_collate([self.pack(prompt_step(copy.copy(r))) for r in batch])
            if embeddings is None:
                data = model.data_preprocessor(data)
                with Stopwatch(device) as watch:
                    embeddings = model.embed(data['inputs'], data['data_samples'])
                timing['encoder_s'] += watch.seconds
            else:
                data['data_samples'] = model.data_preprocessor.cast_data(data['data_samples'])
            with Stopwatch(device) as watch:
                outputs[name] = model.decode(embeddings, data['data_samples'])
            timing['decoder_s'] += watch.seconds
            self.evaluators[model_name][name].process(data_samples=outputs[name],
                                                      data_batch=data)
            if self.save_masks:
                self.predictions[model_name][name] += [image_masks(r) for r in outputs[name]]
        self.runner.call_hook('after_test_iter', batch_idx=idx, data_batch=batch,
                              outputs=outputs)

    def write_masks(self) -> None:
        """Gather every setting's predictions (all ranks) and write one COCO file each."""
        classes = self.dataloader.dataset.metainfo['classes']
        size = len(self.dataloader.dataset)
        for model_name, settings in self.predictions.items():
            folder = '' if len(self.models) == 1 else f'{model_name}/'
            for name, images in settings.items():
                gathered = collect_results(images, size)
                if is_main_process():
                    path = write_setting_masks(self.out_dir, folder + name, gathered, classes)
                    self.runner.logger.info(f'predicted masks of setting {name}: {path}')


class Stopwatch:
    """Wall time of a ``with`` block on ``device``, its queued work included (CUDA is
    synchronised at both ends)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds = 0.0

    def _sync(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def __enter__(self) -> 'Stopwatch':
        self._sync()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self._sync()
        self.seconds = time.perf_counter() - self.start
