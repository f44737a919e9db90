"""Writer of SAMRS generation outputs: label PNGs, colour PNGs and one COCO JSON per run.

Layout under ``out_dir`` (see docs/en/user_guides/generate_masks.md, "Outputs"):

* ``gray/<stem>.png``: ``uint8`` class index per pixel, ``255`` where no mask;
* ``color/<stem>.png``: the same indices as a paletted PNG (class colours, ``255`` black);
* ``instances/<stem>.json``: per-image fragment (image entry and its annotations), written
  last: its presence marks the image done (resume skips it);
* ``failures/<sha1 of the image id>.json``: per-image failure record (image id, image path
  and the reason; named by a hash, as the id of a failed image need not be a valid name);
* after :meth:`SAMRSLabelWriter.finalize`: ``instances.json`` (COCO), ``failures.json``
  and ``summary.json``.

Every file is written atomically. Per-image files are named by the image only, so several
processes (ranks) or threads can write different images into the same ``out_dir``. An image
id must be a plain file stem (no separator, not hidden): nothing is written outside
``out_dir``. No JSON file holds a non-finite number (NaN or infinity).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import numpy as np
from PIL import Image

from mmsamrs.utils import (atomic_open, atomic_write_bytes, check_plain_stem,
                           remove_stale_temp_files, safe_join)
from .crops import Crop, clip_crop
from mmsamrs.utils import IGNORE_INDEX
from .painting import OVERLAP_POLICIES, paint_labels, paint_order
from .quality import FLAG_NAMES, QualityControl, QualityMeasures
from .rle import encode_crop

DECIMALS = 4  # rounding of every float stored in JSON (boxes, angles, scores)
GRAY_DIR, COLOR_DIR, FRAGMENT_DIR, FAILURE_DIR = 'gray', 'color', 'instances', 'failures'


def dumps(obj: Any) -> bytes:
    """Deterministic compact JSON (sorted keys, ASCII, finite numbers only) as bytes."""
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=True,
                      allow_nan=False).encode()


def encode_png(label_map: np.ndarray, palette: Optional[Sequence[Sequence[int]]] = None) -> bytes:
    """PNG bytes of a ``uint8`` label map: grey, or paletted when ``palette`` is given.

    A paletted PNG keeps the label values as its pixel indices and shows index ``i`` in
    ``palette[i]`` (RGB); indices without a colour (``255`` among them) show black.
    """
    image = Image.fromarray(np.ascontiguousarray(label_map, dtype=np.uint8))
    if palette is not None:
        lut = np.zeros((256, 3), dtype=np.uint8)
        lut[:len(palette)] = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        image.putpalette(lut.tobytes())
    buf = io.BytesIO()
    image.save(buf, format='PNG')
    return buf.getvalue()


def _floats(values: Sequence[float]) -> List[float]:
    return [round(float(v), DECIMALS) for v in values]


class SAMRSLabelWriter:
    """Stores SAM results per image and merges them into one COCO JSON per run.

    Args:
        out_dir: output directory of the run (created if missing).
        classes: class names; label index ``i`` is COCO category id ``i + 1``.
        palette: one RGB colour per class, for ``color/`` PNGs.
        overlap_policy: ``'small_on_top'`` (default), ``'score'`` or ``'last'``; see
            :func:`~mmsamrs.generation.painting.paint_order`.
        write_empty: write all-255 PNGs for images without objects (their fragment is
            written either way).
        img_root: directory the source image paths are made relative to for the COCO
            ``file_name``; ``None`` stores the base name.
        quality: measure and flag every object (:class:`~mmsamrs.generation.quality.
            QualityControl`): each annotation gets ``box_iou``, ``outside`` and ``flags``
            (names of the failed checks), the summary counts flagged objects per class,
            and with ``drop_flagged`` flagged objects are not painted.

    A result is a dict with ``img_id`` (the file stem), ``img_path``, ``ori_shape``
    ``(H, W)``, ``error`` (``None`` or a message), ``labels`` ``(N,)``, ``scores`` ``(N,)``
    (SAM's predicted IoU), ``hboxes`` ``(N, 4)`` xyxy, ``rboxes`` ``(N, 5)`` or ``None``,
    ``mask_crops`` (N boolean arrays), ``mask_offsets`` ``(N, 2)`` (x0, y0) and optionally
    ``keep`` ``(N,)`` bool: instances not kept are listed but not painted.
    """

    def __init__(self, out_dir: str, classes: Sequence[str],
                 palette: Sequence[Sequence[int]], overlap_policy: str = 'small_on_top',
                 write_empty: bool = True, img_root: Optional[str] = None,
                 quality: Optional[QualityControl] = None) -> None:
        if overlap_policy not in OVERLAP_POLICIES:
            raise ValueError(
                f'overlap_policy must be one of {OVERLAP_POLICIES}, got {overlap_policy!r}')
        if not 0 < len(classes) < IGNORE_INDEX:
            raise ValueError(f'need 1 to {IGNORE_INDEX - 1} classes, got {len(classes)}')
        if len(palette) < len(classes):
            raise ValueError(f'palette has {len(palette)} colours for {len(classes)} classes')
        self.out_dir = out_dir
        self.classes = tuple(classes)
        self.palette = [list(map(int, c)) for c in palette[:len(classes)]]
        self.overlap_policy = overlap_policy
        self.write_empty = write_empty
        self.img_root = img_root
        self.quality = quality
        for sub in (GRAY_DIR, COLOR_DIR, FRAGMENT_DIR, FAILURE_DIR):
            os.makedirs(os.path.join(out_dir, sub), exist_ok=True)

    # ------------------------------------------------------------------ paths and resume
    def _path(self, sub: str, stem: str, ext: str) -> str:
        check_plain_stem(stem, 'image id')
        return safe_join(os.path.join(self.out_dir, sub), stem + ext)

    def _failure_path(self, img_id: str) -> str:
        digest = hashlib.sha1(img_id.encode('utf-8', 'surrogateescape')).hexdigest()
        return os.path.join(self.out_dir, FAILURE_DIR, digest + '.json')

    def _stems(self, sub: str) -> Set[str]:
        return {
            name[:-len('.json')]
            for name in os.listdir(os.path.join(self.out_dir, sub))
            if name.endswith('.json') and not name.startswith('.')
        }

    def is_done(self, img_id: str) -> bool:
        """Whether the image's outputs are complete (its fragment exists)."""
        return os.path.exists(self._path(FRAGMENT_DIR, img_id, '.json'))

    def done_ids(self) -> Set[str]:
        """Stems of all completed images (of every rank)."""
        return self._stems(FRAGMENT_DIR)

    # ------------------------------------------------------------------ per image
    def write(self, result: Mapping[str, Any]) -> Optional[str]:
        """Write one image's PNGs and then its fragment; return ``None`` if all went well.

        An error result (``error`` set), or any error while writing (an image id that is
        not a plain file stem, a non-finite number, a full disk), is recorded in
        ``failures/`` instead, so the run goes on and a resumed run retries the image;
        the reason is returned.
        """
        error = result.get('error')
        if error is None:
            try:
                self._write_outputs(result)
                return None
            except Exception as err:  # noqa: BLE001  one bad image must not end the run
                error = f'cannot write its outputs: {type(err).__name__}: {err}'
        self.record_failure(str(result['img_id']), str(result['img_path']), str(error))
        return str(error)

    def _write_outputs(self, result: Mapping[str, Any]) -> None:
        """Write the PNGs and the fragment of a successful result."""
        stem = result['img_id']
        check_plain_stem(stem, 'image id')
        height, width = (int(v) for v in result['ori_shape'])
        labels = np.asarray(result['labels'], dtype=np.int64).reshape(-1)
        num = labels.size
        scores = np.asarray(result['scores'], dtype=np.float32).reshape(num)
        hboxes = np.asarray(result['hboxes'], dtype=np.float32).reshape(num, 4)
        rboxes = result.get('rboxes')
        rboxes = None if rboxes is None else np.asarray(rboxes, np.float32).reshape(num, 5)
        offsets = np.asarray(result['mask_offsets'], dtype=np.int64).reshape(num, 2)
        keep = result.get('keep')
        keep = np.ones(num, bool) if keep is None else np.asarray(keep, bool).reshape(num)
        if len(result['mask_crops']) != num:
            raise ValueError(f'{stem}: {len(result["mask_crops"])} mask crops for {num} labels')
        if num and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f'{stem}: labels outside [0, {len(self.classes) - 1}]: {labels}')
        for name, values in (('scores', scores), ('hboxes', hboxes), ('rboxes', rboxes)):
            if values is not None and not np.isfinite(values).all():
                raise ValueError(f'{stem}: {name} hold NaN or infinite values (float32); '
                                 'only finite numbers can be stored')
        crops = [clip_crop(m, o, (height, width)) for m, o in zip(result['mask_crops'], offsets)]
        areas = np.array([c.area for c in crops], dtype=np.int64)
        quality = None if self.quality is None else self.quality.measure(crops, hboxes, scores)
        if quality is not None and self.quality.drop_flagged:
            keep = keep & ~quality.flagged

        if num or self.write_empty:
            order = paint_order(self.overlap_policy, areas, scores, keep)
            gray = paint_labels((height, width), labels, crops, order)
            atomic_write_bytes(self._path(GRAY_DIR, stem, '.png'), encode_png(gray))
            atomic_write_bytes(self._path(COLOR_DIR, stem, '.png'), encode_png(gray, self.palette))

        img_path = str(result['img_path'])
        file_name = (os.path.relpath(img_path, self.img_root)
                     if self.img_root is not None else os.path.basename(img_path))
        fragment = {
            'image': {'stem': stem, 'file_name': file_name, 'height': height, 'width': width},
            'annotations': [
                self._annotation(i, int(labels[i]), crops[i], int(areas[i]), scores[i],
                                 hboxes[i], None if rboxes is None else rboxes[i],
                                 bool(keep[i]), (height, width), quality) for i in range(num)
            ],
        }
        atomic_write_bytes(self._path(FRAGMENT_DIR, stem, '.json'), dumps(fragment))
        with contextlib.suppress(FileNotFoundError):  # an earlier run's failure, now fixed
            os.remove(self._failure_path(stem))

    def _annotation(self, index: int, label: int, crop: Crop, area: int, score: float,
                    hbox: np.ndarray, rbox: Optional[np.ndarray], painted: bool,
                    shape: Tuple[int, int],
                    quality: Optional[QualityMeasures]) -> Dict[str, Any]:
        x1, y1, x2, y2 = (float(v) for v in hbox)
        ann = {
            'segmentation': encode_crop(crop, shape),
            'area': area,
            'bbox': _floats([x1, y1, x2 - x1, y2 - y1]),
            'mask_bbox': crop.bbox(),
            'category_id': label + 1,
            'category_name': self.classes[label],
            'score': round(float(score), DECIMALS),
            'iscrowd': 0,
            'source_index': index,
            'painted': painted,
        }
        if rbox is not None:
            ann['rbox'] = _floats(rbox)
        if quality is not None:
            ann.update(box_iou=round(float(quality.box_iou[index]), DECIMALS),
                       outside=round(float(quality.outside[index]), DECIMALS),
                       flags=quality.flag_names(index))
        return ann

    def record_failure(self, img_id: str, img_path: str, message: str) -> None:
        """Record a failed image; its outputs are removed, so it is not done (retried)."""
        with contextlib.suppress(ValueError):  # an invalid id never had outputs
            for path in (self._path(FRAGMENT_DIR, img_id, '.json'),
                         self._path(GRAY_DIR, img_id, '.png'),
                         self._path(COLOR_DIR, img_id, '.png')):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
        record = {'stem': img_id, 'img_path': str(img_path), 'error': message}
        atomic_write_bytes(self._failure_path(img_id), dumps(record))

    # ------------------------------------------------------------------ end of run
    def categories(self) -> List[Dict[str, Any]]:
        """COCO categories: ``id`` = label index + 1, ``label_index`` = the PNG value."""
        return [{'id': i + 1, 'name': name, 'label_index': i}
                for i, name in enumerate(self.classes)]

    def finalize(self, skipped: int = 0, elapsed_s: Optional[float] = None) -> Dict[str, Any]:
        """Merge all fragments into ``instances.json``; write ``failures.json``, ``summary.json``.

        Call once, on one process, after every rank finished writing. Images are sorted by
        stem and numbered 1..M, annotations 1..K in that order (then source order), so
        ``instances.json`` and ``failures.json`` depend only on the per-image results, not
        on interruptions or on which rank wrote what. Fragments are kept, so finalising
        again (e.g. after resuming more images) is always possible.

        Args:
            skipped: images the caller skipped because they were already done (resume).
            elapsed_s: wall time of this run, for the throughput.

        Returns:
            The summary, also written to ``summary.json`` (see :func:`format_summary`).
        """
        for sub in (GRAY_DIR, COLOR_DIR, FRAGMENT_DIR, FAILURE_DIR):
            remove_stale_temp_files(os.path.join(self.out_dir, sub))
        remove_stale_temp_files(self.out_dir)
        stems = sorted(self.done_ids())
        instances = np.zeros(len(self.classes), dtype=np.int64)
        painted = np.zeros(len(self.classes), dtype=np.int64)
        flagged = np.zeros(len(self.classes), dtype=np.int64)
        flag_counts = dict.fromkeys(FLAG_NAMES, 0)
        empty_images = empty_masks = 0
        images = []
        ann_id = 0
        with atomic_open(os.path.join(self.out_dir, 'instances.json')) as f:
            f.write(b'{"annotations":[')
            for image_id, stem in enumerate(stems, 1):
                with open(self._path(FRAGMENT_DIR, stem, '.json'), 'rb') as frag_file:
                    fragment = json.load(frag_file)
                images.append(dict(fragment['image'], id=image_id))
                empty_images += not fragment['annotations']
                for ann in fragment['annotations']:
                    ann_id += 1
                    f.write((b',' if ann_id > 1 else b'')
                            + dumps(dict(ann, id=ann_id, image_id=image_id)))
                    instances[ann['category_id'] - 1] += 1
                    painted[ann['category_id'] - 1] += ann['painted']
                    flagged[ann['category_id'] - 1] += bool(ann.get('flags'))
                    for flag in ann.get('flags', ()):
                        flag_counts[flag] += 1
                    empty_masks += ann['area'] == 0
            f.write(b'],"categories":' + dumps(self.categories())
                    + b',"images":' + dumps(images) + b'}\n')

        failures = []
        done = set(stems)
        for name in sorted(self._stems(FAILURE_DIR)):
            path = os.path.join(self.out_dir, FAILURE_DIR, name + '.json')
            with open(path, 'rb') as fail_file:
                record = json.load(fail_file)
            if record['stem'] in done:  # done after all: the record is stale
                os.remove(path)
            else:
                failures.append(record)
        failures.sort(key=lambda record: record['stem'])
        atomic_write_bytes(os.path.join(self.out_dir, 'failures.json'), dumps(failures) + b'\n')

        new = len(stems) - skipped
        summary = {
            'images': {'done': len(stems), 'skipped': skipped, 'new': new,
                       'failed': len(failures), 'empty': empty_images},
            'instances': {'total': int(instances.sum()), 'painted': int(painted.sum()),
                          'empty_masks': empty_masks, 'flagged': int(flagged.sum()),
                          'flags': flag_counts},
            'per_class': [{'label_index': i, 'name': name, 'instances': int(instances[i]),
                           'painted': int(painted[i]), 'flagged': int(flagged[i])}
                          for i, name in enumerate(self.classes)],
            'quality': None if self.quality is None else self.quality.settings(),
            'failures': failures,
            'overlap_policy': self.overlap_policy,
            'elapsed_s': None if elapsed_s is None else round(elapsed_s, 3),
            'images_per_s': (round(new / elapsed_s, 3) if elapsed_s else None),
        }
        atomic_write_bytes(os.path.join(self.out_dir, 'summary.json'),
                           json.dumps(summary, indent=2, sort_keys=True,
                                      allow_nan=False).encode() + b'\n')
        return summary


def format_summary(summary: Mapping[str, Any]) -> str:
    """Printable table of a :meth:`SAMRSLabelWriter.finalize` summary."""
    img, ins = summary['images'], summary['instances']
    lines = [
        f"images: {img['done']} done ({img['new']} new, {img['skipped']} skipped as already "
        f"done), {img['failed']} failed, {img['empty']} without objects",
        f"instances: {ins['total']} ({ins['painted']} painted, {ins['empty_masks']} with an "
        f"empty mask); overlap policy {summary['overlap_policy']}",
    ]
    if summary['elapsed_s'] is not None:
        lines.append(f"throughput: {summary['images_per_s']} images/s "
                     f"({img['new']} images in {summary['elapsed_s']} s)")
    quality = summary.get('quality')
    if quality is not None:
        counts = ', '.join(f'{n} {k}' for k, n in ins['flags'].items())
        lines.append(f"quality: {ins['flagged']} flagged ({counts}); "
                     + ', '.join(f'{k}={v}' for k, v in quality.items()))
    width = max([len('class')] + [len(c['name']) for c in summary['per_class']])
    flagged = '  flagged' if quality is not None else ''
    lines.append(f"{'idx':>3}  {'class':<{width}}  {'instances':>9}  {'painted':>7}{flagged}")
    lines += [f"{c['label_index']:>3}  {c['name']:<{width}}  {c['instances']:>9}  "
              f"{c['painted']:>7}" + (f"  {c['flagged']:>7}" if flagged else '')
              for c in summary['per_class']]
    lines += [f"FAILED {f['img_path']}: {f['error']}" for f in summary['failures']]
    return '\n'.join(lines)


def failure_message(summary: Mapping[str, Any], out_dir: str) -> Optional[str]:
    """``None`` when no image failed; else how many did and what to do about it."""
    img = summary['images']
    if not img['failed']:
        return None
    where = os.path.join(out_dir, 'failures.json')
    if not img['done']:
        return (f"no image could be read: all {img['failed']} images failed (reasons in "
                f'{where})')
    return (f"{img['failed']} of {img['done'] + img['failed']} images failed (reasons in "
            f'{where}); the others are done. Rerun with --resume to retry only the failed '
            'ones.')
