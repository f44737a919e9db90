"""The generation loop: SAM over a detection source, SAMRS labels out."""
import copy
import json
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Deque, Dict, List, Optional, Sequence, Union

import torch
from mmengine.dist import all_reduce, barrier, get_dist_info, is_main_process
from mmengine.evaluator import Evaluator
from mmengine.runner import TestLoop
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from mmsamrs.generation import QualityControl, SAMRSLabelWriter, format_summary
from mmsamrs.generation.atomic import atomic_write_bytes
from mmsamrs.registry import DATASETS, LOOPS


@LOOPS.register_module()
class GenerationLoop(TestLoop):
    """Generate SAMRS labels for every image of ``test_dataloader``, exactly once.

    Config: ``test_cfg = dict(type='GenerationLoop', out_dir=None, resume=False,
    overlap_policy='small_on_top', write_empty=True, quality=None)``, with
    ``test_evaluator = []`` (or metrics that consume the model's outputs, such as the
    prompt study's ``InstanceIoUMetric``).

    * Each image goes through the model once; its outputs are written by a
      :class:`~mmsamrs.generation.SAMRSLabelWriter` in background threads (PNG encoding and
      file I/O overlap the next batch's SAM pass), every file atomically.
    * Resume: with ``resume=True`` images already finished in ``out_dir`` are removed from
      the dataset before sharding (all ranks agree on the remaining list, then shard it);
      without it a non-empty ``out_dir`` is refused, so nothing is overwritten by accident.
    * Distributed: the sampler is forced to ``DefaultSampler(shuffle=False,
      round_up=False)``, so ranks get disjoint shards and no image is padded in twice.
    * Bad images (``load_error`` from ``LoadImageOrRecordError``) are reported in
      ``failures.json`` and retried by the next run; the run goes on.
    * At the end rank 0 merges everything into ``instances.json`` and prints the summary.

    Args:
        runner: the runner.
        dataloader: dataloader config (or built dataloader) of the source dataset.
        evaluator: evaluator config; ``[]`` for plain generation.
        out_dir: output directory; defaults to the runner's ``work_dir``.
        resume: skip images already finished in ``out_dir``.
        overlap_policy: ``'small_on_top'``, ``'score'`` or ``'last'`` (see the writer).
        write_empty: write an all-255 label PNG for images without objects.
        quality: ``None``, or the arguments of
            :class:`~mmsamrs.generation.QualityControl` (e.g. ``dict(min_score=0.5,
            min_box_iou=0.5, max_outside=0.25, drop_flagged=False)``): measure and flag
            every object in ``instances.json`` and the summary.
        write_workers: threads that encode and write outputs.
        max_pending: outputs waiting to be written before the loop waits for the writers.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 out_dir: Optional[str] = None,
                 resume: bool = False,
                 overlap_policy: str = 'small_on_top',
                 write_empty: bool = True,
                 quality: Optional[Dict] = None,
                 write_workers: int = 2,
                 max_pending: int = 16) -> None:
        if isinstance(dataloader, dict):
            dataloader = self._prepare_dataloader_cfg(dataloader)
            dataset = dataloader['dataset']
        else:
            dataset = dataloader.dataset
        self.out_dir = out_dir or runner.work_dir
        metainfo = dataset.metainfo
        self.writer = SAMRSLabelWriter(
            self.out_dir, classes=metainfo['classes'], palette=metainfo['palette'],
            overlap_policy=overlap_policy, write_empty=write_empty,
            img_root=getattr(dataset, 'data_root', None) or None,
            quality=None if quality is None else QualityControl(**quality))
        self.num_skipped = self._skip_finished(dataset, resume)
        self._save_source_report(dataset)
        super().__init__(runner, dataloader, evaluator)
        self.write_workers = write_workers
        self.max_pending = max_pending

    @staticmethod
    def _prepare_dataloader_cfg(dataloader: Dict) -> Dict:
        """Build the dataset now (to filter finished images) and force exact sharding."""
        dataloader = copy.deepcopy(dataloader)
        if isinstance(dataloader['dataset'], dict):
            dataloader['dataset'] = DATASETS.build(dataloader['dataset'])
        dataloader['sampler'] = dict(type='DefaultSampler', shuffle=False, round_up=False)
        return dataloader

    def _skip_finished(self, dataset, resume: bool) -> int:
        """Drop images finished in ``out_dir``; all ranks see the same list (barrier)."""
        done = self.writer.done_ids()
        barrier()
        if done and not resume:
            raise FileExistsError(
                f'{self.out_dir} already holds {len(done)} finished images; pass --resume '
                '(test_cfg.resume=True) to continue that run, or choose another --work-dir')
        if not done:
            return 0
        keep = [i for i in range(len(dataset))
                if dataset.get_data_info(i)['img_id'] not in done]
        skipped = len(dataset) - len(keep)
        dataset.get_subset_(keep)
        return skipped

    def _save_source_report(self, dataset) -> None:
        """Keep the reader's bad-input report as ``source_report.json`` (rank 0)."""
        report = getattr(dataset, 'report', None)
        if report is None or not is_main_process():
            return
        os.makedirs(self.out_dir, exist_ok=True)
        atomic_write_bytes(
            os.path.join(self.out_dir, 'source_report.json'),
            json.dumps(report.to_dict(), indent=1, sort_keys=True).encode())

    def run(self) -> dict:
        """Generate labels for the (remaining) images, then merge and summarise."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        start = time.perf_counter()
        progress = ProgressBar(len(self.dataloader.sampler)) if is_main_process() else None
        pending: Deque[Future] = deque()
        with ThreadPoolExecutor(max_workers=self.write_workers) as pool:
            for idx, data_batch in enumerate(self.dataloader):
                for result in self.run_iter(idx, data_batch):
                    self._report_failure(result)
                    pending.append(pool.submit(self.writer.write, result))
                    if progress is not None:
                        progress.update()
                while len(pending) > self.max_pending:
                    pending.popleft().result()
            for future in pending:
                future.result()
        elapsed = torch.tensor(time.perf_counter() - start, dtype=torch.float64)
        all_reduce(elapsed, op='max')
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        barrier()
        if is_main_process():
            summary = self.writer.finalize(skipped=self.num_skipped,
                                           elapsed_s=float(elapsed))
            self.runner.logger.info('\n' + format_summary(summary))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Dict) -> Sequence[dict]:
        """Run SAM on one batch; return its per-image results."""
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self.runner.model.test_step(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)
        return outputs

    def _report_failure(self, result: dict) -> None:
        """Log a bad input as soon as it is met (it is also kept in failures.json)."""
        if result.get('error'):
            rank, _ = get_dist_info()
            self.runner.logger.warning(f'[rank {rank}] skipped {result["img_path"]}: '
                                       f'{result["error"]}')
