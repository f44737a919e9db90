"""The generation loop: SAM over a detection source, SAMRS labels out."""
import copy
import json
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Deque, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import (all_reduce, barrier, broadcast_object_list, get_dist_info,
                           is_main_process)
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop
from torch.utils.data import DataLoader, Dataset

from mmsamrs.datasets.sources import image_search
from mmsamrs.datasets.transforms import PackSAMInputs
from mmsamrs.generation import (GenerationProgress, QualityControl, SAMRSLabelWriter,
                                format_summary, state_dict_fingerprint)
from mmsamrs.models.sam.frames import pipeline_in_frame
from mmsamrs.registry import DATASETS, LOOPS
from mmsamrs.utils import NothingReadError, atomic_write_bytes, check_settings, write_settings
from mmsamrs.utils.memory import release_freed_memory

#: The file of ``out_dir`` that pins the settings of its first run.
SETTINGS_FILE = 'settings.json'

#: Dataset options that say where the data lies or how bad input is reported, not what
#: is generated: they are not pinned, so a moved dataset can still be resumed.
LOCATION_KEYS = ('data_root', 'data_prefix', 'ann_file', 'img_suffix', 'indices',
                 'serialize_data', 'lazy_init', 'max_refetch', 'test_mode', 'strict',
                 'allow_empty')


class ErrorRecordingDataset(Dataset):
    """A generation source whose samples never raise.

    An image whose preparation fails anywhere in the pipeline (reading, annotations,
    prompts, packing) becomes a placeholder sample carrying the error as ``load_error``
    (a 1x1 image, no instances), which the model passes through and the label writer
    records in ``failures.json``; the other images are not affected.

    Args:
        dataset: the source dataset; its pipeline ends with ``PackSAMInputs``.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    @property
    def metainfo(self) -> dict:
        """The source dataset's metainfo."""
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        try:
            return self.dataset[idx]
        except Exception as err:  # noqa: BLE001  one bad image must not end the run
            info = self.dataset.get_data_info(idx)
            return PackSAMInputs(meta_keys=('img_id', 'img_path', 'ori_shape'))(dict(
                img_id=info['img_id'], img_path=info['img_path'], ori_shape=(1, 1),
                img=np.zeros((1, 1, 3), np.uint8), instances=[],
                load_error=f'cannot prepare image {info["img_path"]}: '
                f'{type(err).__name__}: {err}'))


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
    * Settings: the first run pins the settings that change the outputs in
      ``out_dir/settings.json`` (model arch, a fingerprint of the SAM weights, precision,
      prompt chunking, the dataset's pipeline and options, classes, palette, write
      options, seed); resuming with different ones is refused with the differences listed.
    * Distributed: the sampler is forced to ``DefaultSampler(shuffle=False,
      round_up=False)``, so ranks get disjoint shards and no image is padded in twice.
    * One bad image never ends the run: an error while preparing it (when the dataloader
      is given as a config), in SAM (a failed batch is rerun image by image) or while
      writing its outputs is recorded in ``failures.json`` with the image's path and the
      reason; the next run retries it. ``summary['images']['failed']`` counts them.
    * A source without any image to process (all missing, wrong suffix) raises at once,
      saying how many images were expected and where they were looked for.
    * At the end rank 0 merges everything into ``instances.json`` and logs the summary,
      which every rank then holds as :attr:`summary`.
    * Memory: after each batch the C heap's freed memory is given back to the operating
      system (:func:`~mmsamrs.utils.memory.release_freed_memory`, glibc only), so that
      glibc's heap does not keep a few hundred MiB of freed decoder tensors resident for
      the rest of a long run (``release_memory=False`` turns it off).

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
        progress_interval: seconds between progress lines when the output is not a
            terminal (on a terminal the line is redrawn at every image).
        release_memory: give freed C-heap memory back to the system after each batch.
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
                 max_pending: int = 16,
                 progress_interval: float = 30.0,
                 release_memory: bool = True) -> None:
        dataset_cfg = None
        if isinstance(dataloader, dict):
            dataloader = self._prompts_in_model_frame(runner, dataloader)
            dataset_cfg = dataloader['dataset']
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
        settings = self._settings(runner, dataset_cfg, dataset, quality)
        self.num_skipped = self._skip_finished(dataset, resume, settings)
        self._save_source_report(dataset)
        if len(dataset) == 0 and not self.num_skipped:
            raise NothingReadError(self._nothing_to_read(dataset))
        if isinstance(dataloader, dict):
            dataloader['dataset'] = ErrorRecordingDataset(dataset)
        super().__init__(runner, dataloader, evaluator)
        self.write_workers = write_workers
        self.max_pending = max_pending
        self.progress_interval = progress_interval
        self.release_memory = release_memory
        self.summary: Optional[Dict[str, Any]] = None

    @staticmethod
    def _prompts_in_model_frame(runner, dataloader: Dict) -> Dict:
        """The dataloader config with its ``SAMPrompts`` step in the model's input frame
        (SAM 2's square frame; unchanged for SAM)."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataset = dataloader['dataset']
        if not hasattr(model, 'frame') or not isinstance(dataset, dict) \
                or 'pipeline' not in dataset:
            return dataloader
        pipeline = pipeline_in_frame(dataset['pipeline'], model.frame)
        return dict(dataloader, dataset=dict(dataset, pipeline=pipeline))

    @staticmethod
    def _prepare_dataloader_cfg(dataloader: Dict) -> Dict:
        """Build the dataset now (to filter finished images) and force exact sharding."""
        dataloader = copy.deepcopy(dataloader)
        if isinstance(dataloader['dataset'], dict):
            dataloader['dataset'] = DATASETS.build(dataloader['dataset'])
        dataloader['sampler'] = dict(type='DefaultSampler', shuffle=False, round_up=False)
        return dataloader

    def _settings(self, runner, dataset_cfg: Any, dataset, quality: Optional[Dict]) -> Dict:
        """The settings that change the outputs (pinned in ``out_dir/settings.json``)."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model_settings = (model.settings() if hasattr(model, 'settings')
                          else dict(type=type(model).__name__))
        if isinstance(dataset_cfg, dict):
            dataset_settings = {k: v for k, v in dataset_cfg.items() if k not in LOCATION_KEYS}
        else:
            dataset_settings = dict(type=type(dataset).__name__)
        writer = self.writer
        return dict(
            model=dict(model_settings, weights=state_dict_fingerprint(model)),
            dataset=dataset_settings,
            classes=list(writer.classes), palette=writer.palette,
            write=dict(overlap_policy=writer.overlap_policy, write_empty=writer.write_empty,
                       quality=quality),
            seed=(runner.cfg.get('randomness', None) or {}).get('seed'))

    def _skip_finished(self, dataset, resume: bool, settings: Dict) -> int:
        """Drop images finished in ``out_dir`` after checking that they were made with the
        same ``settings`` (else pin them); all ranks see the same list (barrier)."""
        done = self.writer.done_ids()
        barrier()
        if done and not resume:
            raise FileExistsError(
                f'{self.out_dir} already holds {len(done)} finished images; pass --resume '
                '(test_cfg.resume=True) to continue that run, or choose another --work-dir')
        path = os.path.join(self.out_dir, SETTINGS_FILE)
        if not done:
            if is_main_process():
                write_settings(path, settings)
            return 0
        check_settings(path, settings, f'the {len(done)} images generated in {self.out_dir}',
                       advice='generate into another --work-dir')
        keep = [i for i in range(len(dataset))
                if dataset.get_data_info(i)['img_id'] not in done]
        skipped = len(dataset) - len(keep)
        dataset.get_subset_(keep)
        return skipped

    @staticmethod
    def _nothing_to_read(dataset) -> str:
        """Why a source yields no image: how many were expected, where they were sought."""
        report = getattr(dataset, 'report', None)
        expected = report.counts.get('annotation_files', 0) if report is not None else 0
        message = (f'no image could be read: {expected} images were expected (one per '
                   f'annotation file), looked for in {image_search(dataset)}')
        if report is not None:
            message += f'. The source reader found: {report.summary()}'
        return message + ' (details in source_report.json)'

    def _save_source_report(self, dataset) -> None:
        """Keep the reader's bad-input report as ``source_report.json`` (rank 0)."""
        report = getattr(dataset, 'report', None)
        if report is None or not is_main_process():
            return
        os.makedirs(self.out_dir, exist_ok=True)
        atomic_write_bytes(
            os.path.join(self.out_dir, 'source_report.json'),
            json.dumps(report.to_dict(), indent=1, sort_keys=True, allow_nan=False).encode())

    def _progress(self) -> GenerationProgress:
        """Progress over this rank's images and their boxes."""
        dataset = self.dataloader.dataset
        source = getattr(dataset, 'dataset', dataset)
        indices = list(self.dataloader.sampler)
        boxes = sum(len(source.get_data_info(i).get('instances', ())) for i in indices)
        return GenerationProgress(len(indices), boxes, interval=self.progress_interval)

    def run(self) -> dict:
        """Generate labels for the (remaining) images, then merge and summarise."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        start = time.perf_counter()
        progress = self._progress() if is_main_process() else None
        pending: Deque[Future] = deque()
        with ThreadPoolExecutor(max_workers=self.write_workers) as pool:
            for idx, data_batch in enumerate(self.dataloader):
                for result in self.run_iter(idx, data_batch):
                    pending.append(pool.submit(self._write, result))
                    if progress is not None:
                        progress.update(1, len(result['labels']))
                while len(pending) > self.max_pending:
                    pending.popleft().result()
                self._after_batch()
            for future in pending:
                future.result()
        if progress is not None:
            progress.close()
        elapsed = torch.tensor(time.perf_counter() - start, dtype=torch.float64)
        all_reduce(elapsed, op='max')
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        barrier()
        summary = [None]
        if is_main_process():
            summary[0] = self.writer.finalize(skipped=self.num_skipped,
                                              elapsed_s=float(elapsed))
            self.runner.logger.info('\n' + format_summary(summary[0]))
        broadcast_object_list(summary)
        self.summary = summary[0]
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def _after_batch(self) -> None:
        """Between two batches: give the memory SAM freed back to the system."""
        if self.release_memory:
            release_freed_memory()

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Dict) -> Sequence[dict]:
        """Run SAM on one batch; return its per-image results."""
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self._predict(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)
        return outputs

    def _predict(self, data_batch: Dict) -> List[dict]:
        """The model's results for a batch, whatever one of its images does.

        If the batch fails, each of its images is run alone; an image that fails alone
        gets an error result (no instances), so it cannot take the others down.
        """
        try:
            return self.runner.model.test_step(data_batch)
        except Exception as err:  # noqa: BLE001  one bad image must not end the run
            samples = data_batch['data_samples']
            if len(samples) > 1:
                self.runner.logger.warning(
                    f'a batch of {len(samples)} images failed ({type(err).__name__}: {err}); '
                    'running its images one by one')
                return [result for i in range(len(samples)) for result in self._predict(
                    {key: value[i:i + 1] for key, value in data_batch.items()})]
            sample = samples[0]
            sample.set_metainfo(dict(load_error=f'SAM failed on image {sample.img_path}: '
                                     f'{type(err).__name__}: {err}'))
            model = (self.runner.model.module if is_model_wrapper(self.runner.model)
                     else self.runner.model)
            return [model.failed(sample)]

    def _write(self, result: dict) -> None:
        """Write one image's outputs; log it at once if it failed (see failures.json)."""
        error = self.writer.write(result)
        if error is not None:
            rank, _ = get_dist_info()
            self.runner.logger.warning(f'[rank {rank}] failed {result["img_path"]}: {error}')
