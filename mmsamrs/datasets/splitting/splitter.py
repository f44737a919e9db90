"""Resumable, config-driven splitting of large source images into fixed-size patches.

Output layout (``out_dir``): the source reader's own layout (``DEFAULT_PREFIX``, e.g.
``images/`` + ``labelTxt/`` for DOTA, ``images/`` + ``labelXml/`` for FAIR1M), so the
same reader with ``data_root=out_dir`` reads the patches. Patches are PNG images named
``{img_id}__{patch_size}__{x}___{y}`` (``x``, ``y``: the patch's top-left corner in the
source image; the naming of mmrotate's DOTA split tool). Patches reaching past the image
are padded on the right/bottom with ``pad_value``.

Resuming (the machinery of :mod:`mmsamrs.utils.resumable`): every file is written
atomically (a temporary file moved into place); when all patches of an image are written,
a completion marker ``.split/done/{img_id}.json`` is written last. A rerun skips images
whose marker exists and whose patch files are all present, and redoes the others (e.g.
the image being cut when a run was killed). ``.split/settings.json`` pins the split
settings of ``out_dir``; a run with other settings refuses to mix its patches in, and an
image id already split from another source file is reported as failed. Failed images
(unreadable, or of another size than their annotation says) get no marker and are
retried by the next run. A run first deletes the hidden temporary files that a killed
run left behind (so two runs must not write into one ``out_dir`` at the same time). Each
run writes ``split_report_{timestamp}.json``: counts, failed images, repeated image ids,
objects lost (kept in no patch) and the source reader's report of bad input (the reader's
``strict`` decides whether bad input stops the run). A run in which no image could be read
raises :class:`~mmsamrs.utils.NothingReadError` after writing its report.

Every file is written inside ``out_dir``: an image id that is not a plain file stem
(``../x``, ``/abs``, ``.hidden``) fails that image, and every target path is checked
(:func:`mmsamrs.utils.safe_join`).
"""
import logging
import os.path as osp
import re
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmsamrs.datasets.sources import image_search
from mmsamrs.registry import DATASETS
from mmsamrs.utils import (JobState, NothingReadError, atomic_write_bytes, check_plain_stem,
                           count_statuses, process_with_progress, safe_join,
                           write_run_report)
from .windows import WindowClipper, check_split, sliding_windows
from .writers import ANNOTATION_WRITERS, AnnotationWriter

STATE_DIR = '.split'


def patch_name(img_id: str, patch_size: int, x: int, y: int) -> str:
    """Return the patch name ``{img_id}__{patch_size}__{x}___{y}``."""
    return f'{img_id}__{patch_size}__{x}___{y}'


def parse_patch_name(name: str) -> Tuple[str, int, int, int]:
    """Return ``(img_id, patch_size, x, y)`` of a patch name (inverse of :func:`patch_name`)."""
    match = re.fullmatch(r'(.+)__(\d+)__(\d+)___(\d+)', name)
    if match is None:
        raise ValueError(f'{name!r} is not a patch name {{img_id}}__{{size}}__{{x}}___{{y}}')
    img_id, size, x, y = match.groups()
    return img_id, int(size), int(x), int(y)


def crop_patch(img: np.ndarray, x: int, y: int, size: int, pad_value: int) -> np.ndarray:
    """Cut the ``size`` x ``size`` window at ``(x, y)``, padding past the image edges."""
    patch = np.full((size, size, *img.shape[2:]), pad_value, dtype=img.dtype)
    crop = img[y:y + size, x:x + size]
    patch[:crop.shape[0], :crop.shape[1]] = crop
    return patch


class PatchSplitter:
    """Cut one source image and its objects into patches and write them.

    One call (``splitter(data_info)``) is the resumable unit of work; it returns the
    image's record (also stored as its completion marker). Objects are kept and clipped by
    the inside-fraction rule of :mod:`mmsamrs.datasets.splitting.windows`.

    Args:
        out_dir: output root (the reader's layout, see the module docstring).
        writer: the annotation writer of the source format.
        img_dir, ann_dir: sub-folders of ``out_dir`` for images and annotations.
        ann_suffix: annotation file suffix (``.txt``, ``.xml``).
        patch_size: window side in pixels (config ``splitter.patch_size``).
        overlap: pixels shared by neighbouring windows; stride is ``patch_size - overlap``.
        min_inside: smallest inside fraction of a kept cut object (devkit: 0.7).
        pad_value: value of the padding pixels (all channels).
        keep_empty: also write patches without objects (default: skip them).
    """

    def __init__(self, out_dir: str, writer: AnnotationWriter, img_dir: str, ann_dir: str,
                 ann_suffix: str, patch_size: int = 1024, overlap: int = 200,
                 min_inside: float = 0.7, pad_value: int = 0,
                 keep_empty: bool = False) -> None:
        self.out_dir = out_dir
        self.writer = writer
        self.img_dir = osp.join(out_dir, img_dir)
        self.ann_dir = osp.join(out_dir, ann_dir)
        self.ann_suffix = ann_suffix
        self.settings = dict(
            writer=type(writer).__name__, patch_size=int(patch_size), overlap=int(overlap),
            min_inside=float(min_inside), pad_value=int(pad_value),
            keep_empty=bool(keep_empty))
        check_split(patch_size, overlap, min_inside)
        self.state = JobState(out_dir, STATE_DIR, self.settings, 'patches')

    def prepare(self) -> None:
        """Create the output folders and delete stale temporary files; pin the settings or
        check them against a former run (``ValueError`` when they differ)."""
        self.state.prepare((self.img_dir, self.ann_dir))

    def patch_files(self, name: str) -> Tuple[str, str]:
        """Return the image and annotation paths of patch ``name``."""
        return (safe_join(self.img_dir, name + '.png'),
                safe_join(self.ann_dir, name + self.ann_suffix))

    def __call__(self, data_info: dict) -> Dict[str, Any]:
        """Split one image (or find it done); return its record.

        The record has ``img_id``, ``img_path``, ``status`` (``split``, ``resumed`` or
        ``failed``) and, unless failed, ``patches`` (names), ``instances`` (objects
        written over all patches), ``cut`` (of those, clipped by a window) and ``lost``
        (class name -> objects kept in no patch); a failed record has ``error`` (also
        for an image id that is not a plain file stem).
        """
        img_id, img_path = data_info['img_id'], osp.abspath(data_info['img_path'])
        try:
            record = self.state.finished(check_plain_stem(img_id, 'image id'))
        except ValueError as err:
            return dict(img_id=img_id, img_path=img_path, status='failed', error=str(err))
        if record is not None:
            if record['img_path'] != img_path:
                return dict(img_id=img_id, img_path=img_path, status='failed',
                            error=f'patch names of {img_id!r} are taken by '
                            f"{record['img_path']} in {self.out_dir}")
            if all(osp.isfile(p) for name in record['patches'] for p in self.patch_files(name)):
                return dict(record, status='resumed')
        img = cv2.imread(img_path, cv2.IMREAD_UNCHANGED)
        if img is None or img.shape[:2] != (data_info['height'], data_info['width']):
            found = 'unreadable' if img is None else f'{img.shape[1]}x{img.shape[0]}'
            return dict(img_id=img_id, img_path=img_path, status='failed',
                        error=f"image {img_path}: expected {data_info['width']}x"
                        f"{data_info['height']} pixels, found {found}")
        record = dict(img_id=img_id, img_path=img_path, **self.write_patches(img, data_info))
        self.state.mark_done(img_id, record)
        return dict(record, status='split')

    def write_patches(self, img: np.ndarray, data_info: dict) -> Dict[str, Any]:
        """Cut ``img`` and the objects of ``data_info``; write the patches; return counts."""
        size, height, width = self.settings['patch_size'], *img.shape[:2]
        instances = data_info['instances']
        clipper = WindowClipper([inst['qbox'] for inst in instances], width, height,
                                self.settings['min_inside'])
        seen = np.zeros(len(instances), dtype=bool)
        names: List[str] = []
        written = cut = 0
        for x, y in sliding_windows(width, height, size, self.settings['overlap']).tolist():
            indices, quads, fractions = clipper.clip(
                (x, y, min(x + size, width), min(y + size, height)))
            if not len(indices) and not self.settings['keep_empty']:
                continue
            seen[indices] = True
            written += len(indices)
            cut += int((fractions < 1).sum())
            objects = [
                dict(qbox=(quad - [x, y] * 4).tolist(), class_name=instances[i]['class_name'],
                     difficult=instances[i]['difficult'])
                for i, quad in zip(indices.tolist(), quads)
            ]
            name = patch_name(data_info['img_id'], size, x, y)
            patch = crop_patch(img, x, y, size, self.settings['pad_value'])
            img_file, ann_file = self.patch_files(name)
            atomic_write_bytes(img_file, cv2.imencode('.png', patch)[1].tobytes())
            depth = patch.shape[2] if patch.ndim == 3 else 1
            text = self.writer.dumps(name + '.png', size, size, depth, objects, data_info)
            atomic_write_bytes(ann_file, text.encode('utf-8'))
            names.append(name)
        lost = Counter(inst['class_name'] for inst, s in zip(instances, seen) if not s)
        return dict(
            patches=names, instances=written, cut=cut, lost=dict(sorted(lost.items())))


class SplitRunner:
    """Split every image of a source dataset into patches, with a progress bar.

    Built from a config by :meth:`from_cfg` (used by ``tools/split_images.py``).

    Args:
        dataset: a source reader (e.g. ``DOTADataset``, ``FAIR1MDataset``) or its config.
        out_dir: output root.
        splitter: keyword arguments of :class:`PatchSplitter` (``patch_size``,
            ``overlap``, ``min_inside``, ``pad_value``, ``keep_empty``).
        nproc: worker processes (1: split in this process).
    """

    def __init__(self, dataset: Union[BaseDataset, dict], out_dir: str,
                 splitter: Optional[dict] = None, nproc: int = 1) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        source = getattr(self.dataset, 'SOURCE', None)
        if source not in ANNOTATION_WRITERS:
            raise ValueError(
                f'cannot split {type(self.dataset).__name__} (source {source!r}): patch '
                f'writers exist for the sources {sorted(ANNOTATION_WRITERS)}')
        prefix = type(self.dataset).DEFAULT_PREFIX
        self.splitter = PatchSplitter(
            out_dir, ANNOTATION_WRITERS[source](), img_dir=prefix['img_path'],
            ann_dir=prefix['ann_path'], ann_suffix=type(self.dataset).ANN_SUFFIX,
            **(splitter or {}))
        self.out_dir = out_dir
        self.nproc = nproc

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'SplitRunner':
        """Build from a config with ``dataset``, ``out_dir``, ``splitter`` and ``nproc``."""
        return cls(cfg.dataset, cfg.out_dir, cfg.get('splitter'), cfg.get('nproc', 1))

    def run(self) -> Tuple[Dict[str, Any], str]:
        """Split all images not done yet (each image id once); write and return the report
        and its path.

        Raises:
            NothingReadError: no image could be read (after writing the report).
        """
        self.splitter.prepare()
        infos: Dict[str, dict] = {}
        repeated = []
        for i in range(len(self.dataset)):
            info = self.dataset.get_data_info(i)
            if info['img_id'] in infos:
                repeated.append(dict(img_id=info['img_id'], img_path=info['img_path'],
                                     split_from=infos[info['img_id']]['img_path']))
            else:
                infos[info['img_id']] = info
        records = process_with_progress(self.splitter, list(infos.values()), self.nproc)
        report = dict(self.make_report(records), repeated_ids=repeated)
        path = write_run_report(self.out_dir, 'split_report', report)
        images = report['images']
        repeats = f'{len(repeated)} repeated image ids split once; ' if repeated else ''
        print_log(f"{images.get('split', 0)} images split, {images.get('resumed', 0)} "
                  f"already done, {images.get('failed', 0)} failed; {report['patches']} "
                  f"patches in {self.out_dir}; {sum(report['lost'].values())} objects in "
                  f'no patch; {repeats}report: {path}', logger='current',
                  level=logging.WARNING if report['failed'] or repeated else logging.INFO)
        if not any(r['status'] != 'failed' for r in records):
            raise NothingReadError(self.nothing_read_message(len(records), path))
        return report, path

    def nothing_read_message(self, found: int, report_path: str) -> str:
        """Say how many images were expected and where they were looked for."""
        reader_report = getattr(self.dataset, 'report', None)
        expected = reader_report.counts['annotation_files'] if reader_report else found
        return (f'no image could be read: {expected} images expected, {found} found by '
                f'{type(self.dataset).__name__} and none of them readable; images were '
                f'looked for in {image_search(self.dataset)}; see the reader report in '
                f'{report_path}')

    def make_report(self, records: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        """Summarise the image records of a run (done images, resumed ones included)."""
        done = [r for r in records if r['status'] != 'failed']
        lost: Counter = Counter()
        for record in done:
            lost.update(record['lost'])
        reader_report = getattr(self.dataset, 'report', None)
        return dict(
            out_dir=self.out_dir,
            settings=self.splitter.settings,
            source=dict(type=type(self.dataset).__name__, data_root=self.dataset.data_root,
                        report=reader_report.to_dict() if reader_report else None),
            images=count_statuses(records),
            patches=sum(len(r['patches']) for r in done),
            instances=sum(r['instances'] for r in done),
            cut=sum(r['cut'] for r in done),
            lost=dict(sorted(lost.items())),
            failed=[dict(img_path=r['img_path'], error=r['error'])
                    for r in records if r['status'] == 'failed'])
