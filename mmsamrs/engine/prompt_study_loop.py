"""The prompt study as a runner loop: several prompt settings, one encoder pass per image."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.dist import is_main_process
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmengine.utils import ProgressBar

from mmsamrs.evaluation.prompt_study import (TABLE_METRICS, find_prompt_step, order_settings,
                                             write_report)
from mmsamrs.registry import LOOPS, TRANSFORMS


def keep_results(batch: List[dict]) -> List[dict]:
    """Collate function that keeps a batch as the list of its pipeline results."""
    return batch


@LOOPS.register_module()
class PromptStudyLoop(BaseLoop):
    """SAM under several prompt settings on data with ground-truth masks (paper Table 1).

    Config (``tools/eval_prompts.py`` writes it from the settings' configs, see
    :func:`~mmsamrs.evaluation.prompt_study.study_config`)::

        test_cfg = dict(type='PromptStudyLoop', settings=['CP', 'H-Box', 'RH-Box'])
        test_evaluator = dict(type='InstanceIoUMetric')

    The dataset pipeline must have one ``SAMPrompts`` step. The steps before it (image and
    ground-truth loading) run once per image in the dataloader workers; then, per batch,
    the image encoder runs once (:meth:`SAMGenerator.embed`) and every setting gets its own
    copy of each image's results, the ``SAMPrompts`` step with that setting's ``prompts``,
    the steps after it (``PackSAMInputs``) and the mask decoder on the shared embeddings
    (:meth:`SAMGenerator.decode`). Prompts are made one setting at a time, so memory does
    not grow with the number of settings. Each setting has its own evaluator built from
    ``test_evaluator``; at the end the report (Markdown table in Table 1's layout, CSV,
    JSON, bar plot, per-instance CSV) is written to ``out_dir`` and logged.

    Args:
        runner: the runner.
        dataloader: dataloader config of the dataset with ground-truth masks.
        evaluator: evaluator config; must contain an ``InstanceIoUMetric`` (no prefix).
        settings: prompt settings (paper or mmsamrs spelling; ``'table1'``: all 15 rows),
            run in Table 1's order.
        out_dir: report directory; defaults to the runner's ``work_dir``.
    """

    def __init__(self, runner, dataloader: Dict, evaluator: Union[Dict, List],
                 settings: Sequence[str], out_dir: Optional[str] = None) -> None:
        if not isinstance(dataloader, dict):
            raise TypeError('PromptStudyLoop needs the dataloader as a config dict')
        dataloader = copy.deepcopy(dataloader)
        pipeline = list(dataloader['dataset']['pipeline'])
        index = find_prompt_step(pipeline)
        self.settings = order_settings(settings)
        self.prompt_steps = {name: TRANSFORMS.build(dict(pipeline[index], prompts=name))
                             for name in self.settings}
        self.pack = Compose([TRANSFORMS.build(step) for step in pipeline[index + 1:]])
        dataloader['dataset']['pipeline'] = pipeline[:index]
        dataloader['collate_fn'] = keep_results
        dataloader['sampler'] = dict(type='DefaultSampler', shuffle=False, round_up=False)
        super().__init__(runner, dataloader)
        self.out_dir = out_dir or runner.work_dir
        self.evaluators: Dict[str, Evaluator] = {}
        for name in self.settings:
            self.evaluators[name] = runner.build_evaluator(copy.deepcopy(evaluator))
            self.evaluators[name].dataset_meta = self.dataloader.dataset.metainfo

    def run(self) -> Dict[str, float]:
        """Run every setting on every image; write and log the report; return all metrics
        as ``'<setting>/<metric>'``."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        progress = ProgressBar(len(self.dataloader.sampler)) if is_main_process() else None
        for idx, batch in enumerate(self.dataloader):
            self.run_iter(idx, batch)
            if progress is not None:
                progress.update(len(batch))
        rows, per_instance, metrics = {}, {}, {}
        for name, evaluator in self.evaluators.items():
            rows[name] = evaluator.evaluate(len(self.dataloader.dataset))
            missing = [m for m in TABLE_METRICS if m not in rows[name]]
            if missing:
                raise KeyError(f'test_evaluator gave no {missing}; the prompt study needs '
                               "dict(type='InstanceIoUMetric') without prefix")
            per_instance[name] = [record for metric in evaluator.metrics
                                  for record in getattr(metric, 'per_instance', [])]
            metrics.update({f'{name}/{key}': value for key, value in rows[name].items()})
        if is_main_process():
            markdown = write_report(self.out_dir, rows, per_instance)
            self.runner.logger.info(f'prompt study (reports in {self.out_dir}):\n{markdown}')
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, batch: List[dict]) -> None:
        """Encode the batch's images once, then decode and evaluate every setting."""
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=batch)
        model = self.runner.model.module if is_model_wrapper(self.runner.model) \
            else self.runner.model
        embeddings = None
        outputs = {}
        for name, prompt_step in self.prompt_steps.items():
            data = pseudo_collate([self.pack(prompt_step(copy.copy(r))) for r in batch])
            if embeddings is None:
                data = model.data_preprocessor(data)
                embeddings = model.embed(data['inputs'], data['data_samples'])
            else:
                data['data_samples'] = model.data_preprocessor.cast_data(data['data_samples'])
            outputs[name] = model.decode(embeddings, data['data_samples'])
            self.evaluators[name].process(data_samples=outputs[name], data_batch=data)
        self.runner.call_hook('after_test_iter', batch_idx=idx, data_batch=batch,
                              outputs=outputs)
