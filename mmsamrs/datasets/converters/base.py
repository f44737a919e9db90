"""Shared machinery of the fine-tuning dataset converters (ISPRS Potsdam, iSAID).

Inputs are found by file name, as loose files below a folder or as members of the ``*.zip``
archives below it (the official downloads are zips; nothing is extracted to disk). Each
image and its colour label are cut into ``size`` x ``size`` windows stepping by ``stride``,
the last window of each axis moved back to end at the image edge
(:func:`mmsamrs.datasets.splitting.windows.sliding_windows`); an image smaller than a
window is padded on the right/bottom (image 0, label 255), as mmseg's converters do.
Colours become class indices by a table; colours not in the table become 255 and are
counted in the report.

Output: mmseg's layout, ``img_dir/<split>/<name>.png`` (RGB) and ``ann_dir/<split>/
<name>.png`` (``uint8`` class indices, 255 = ignored).

Resuming (the machinery of :mod:`mmsamrs.utils.resumable`): every file is written
atomically; when all crops of an image are written, its completion marker
``.convert/done/<key>.json`` is written last. A rerun skips images whose marker and crops
exist and redoes the others. ``.convert/settings.json`` pins the settings of an output
folder: a run with other settings refuses to mix its crops in. A run first deletes the
hidden temporary files a killed run left behind. Each run writes
``convert_report_<time>.json``; a run in which no image could be read then raises
:class:`~mmsamrs.utils.NothingReadError`. Every target path is checked to lie inside the
output folder (:func:`mmsamrs.utils.safe_join`).
"""
import logging
import os
import os.path as osp
import re
import zipfile
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from mmsamrs.datasets.sources.isaid import rgb_codes
from mmsamrs.datasets.splitting.splitter import crop_patch
from mmsamrs.datasets.splitting.windows import sliding_windows
from mmsamrs.utils import (IGNORE_INDEX, JobState, NothingReadError, atomic_write_bytes,
                           count_statuses, process_with_progress, safe_join,
                           write_run_report)

STATE_DIR = '.convert'
#: ``(zip archive, member name)`` or ``(None, file path)``.
Source = Tuple[Optional[str], str]


def find_sources(root: str, pattern: str) -> Dict[str, Source]:
    """Files below ``root`` (also inside its ``*.zip`` archives) whose base name fully
    matches ``pattern``, keyed by the pattern's first group.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: two files have the same key.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'input folder {root!r} not found (cwd={os.getcwd()!r})')
    regex = re.compile(pattern)
    found: Dict[str, List[Source]] = {}

    def add(archive: Optional[str], path: str) -> None:
        match = regex.fullmatch(path.rsplit('/', 1)[-1])
        if match:
            found.setdefault(match.group(1), []).append((archive, path))

    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = osp.join(folder, name)
            if name.endswith('.zip'):
                with zipfile.ZipFile(path) as archive:
                    for member in archive.namelist():
                        add(path, member)
            else:
                add(None, path)
    twice = {key: places for key, places in found.items() if len(places) > 1}
    if twice:
        key, places = next(iter(twice.items()))
        raise ValueError(f'{len(twice)} inputs found more than once below {root!r}, '
                         f'e.g. {key!r} at {places}')
    return {key: places[0] for key, places in found.items()}


def read_image(source: Source) -> np.ndarray:
    """Decode an image file or zip member as ``uint8`` BGR (H, W, 3)."""
    archive, path = source
    if archive is None:
        with open(path, 'rb') as f:
            data = f.read()
    else:
        with zipfile.ZipFile(archive) as zf:
            data = zf.read(path)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'cannot decode {path!r}' + (f' in {archive}' if archive else ''))
    return img


class ColourTable:
    """Colour label image -> class indices.

    Args:
        colours: RGB colour -> value (a class index, or 255 for a colour that is ignored).
    """

    def __init__(self, colours: Dict[Tuple[int, int, int], int]) -> None:
        codes = rgb_codes(list(colours))
        order = np.argsort(codes)
        self.codes = codes[order]
        self.values = np.array(list(colours.values()), dtype=np.uint8)[order]

    def __call__(self, bgr: np.ndarray, rows: int = 256) -> Tuple[np.ndarray, Counter]:
        """Return the index map of a BGR colour image and the pixels of unknown colours
        (``'#rrggbb'`` -> count); converted ``rows`` rows at a time to bound memory."""
        out = np.empty(bgr.shape[:2], dtype=np.uint8)
        unknown: Counter = Counter()
        for top in range(0, bgr.shape[0], rows):
            codes = rgb_codes(bgr[top:top + rows, :, ::-1])
            pos = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
            known = self.codes[pos] == codes
            out[top:top + rows] = np.where(known, self.values[pos], IGNORE_INDEX)
            values, counts = np.unique(codes[~known], return_counts=True)
            unknown.update({f'#{v & 255:02x}{v >> 8 & 255:02x}{v >> 16:02x}': int(c)
                            for v, c in zip(values.tolist(), counts.tolist())})
        return out, unknown


class CropConverter:
    """Cut image + colour-label pairs into crops of mmseg's layout (module docstring).

    One call (``converter(item)``) converts one pair, the resumable unit of work. An item
    is a dict with ``key`` (unique image id), ``split`` (output sub-folder), ``image`` and
    ``label`` (:data:`Source`).

    Args:
        out_dir: output root.
        colours: label colour (RGB) -> value, see :class:`ColourTable`.
        name_format: crop name, formatted with ``key``, ``x0``, ``y0``, ``x1``, ``y1``
            (window corners in the source image; a padded window's ``x1 = x0 + size``).
        size: window side in pixels.
        stride: step between windows (``<= size``).
        settings: dataset description pinned with the window settings.
    """

    def __init__(self, out_dir: str, colours: Dict[Tuple[int, int, int], int],
                 name_format: str, size: int, stride: int, settings: Dict[str, Any]) -> None:
        if not 0 < stride <= size:
            raise ValueError(f'need 0 < stride <= size, got {stride=}, {size=}')
        self.out_dir = out_dir
        self.table = ColourTable(colours)
        self.name_format = name_format
        self.size, self.stride = size, stride
        self.settings = dict(settings, size=size, stride=stride)
        self.state = JobState(out_dir, STATE_DIR, self.settings, 'crops')

    def prepare(self, splits: Sequence[str]) -> None:
        """Create the output folders and delete stale temporary files; pin the settings or
        check them against a former run."""
        self.state.prepare([safe_join(self.out_dir, sub, split)
                            for split in splits for sub in ('img_dir', 'ann_dir')])

    def crop_files(self, split: str, name: str) -> Tuple[str, str]:
        """Return the image and label paths of crop ``name`` (``ValueError`` unless both lie
        inside their ``img_dir/<split>`` and ``ann_dir/<split>`` folders)."""
        img_dir, ann_dir = (safe_join(self.out_dir, sub, split) for sub in ('img_dir', 'ann_dir'))
        return safe_join(img_dir, name + '.png'), safe_join(ann_dir, name + '.png')

    def __call__(self, item: Dict[str, Any]) -> Dict[str, Any]:
        """Convert one pair (or find it done); return its record.

        The record has ``key``, ``split``, ``status`` (``converted``, ``resumed`` or
        ``failed``) and, unless failed, ``crops`` (names) and ``unknown`` (unknown colour
        -> pixels); a failed record has ``error``.
        """
        key, split = item['key'], item['split']
        record = self.state.finished(key)
        if record is not None:
            if all(osp.isfile(p) for name in record['crops']
                   for p in self.crop_files(record['split'], name)):
                return dict(record, status='resumed')
        try:
            img, colour = read_image(item['image']), read_image(item['label'])
            if img.shape != colour.shape:
                raise ValueError(f'image {img.shape[1]}x{img.shape[0]} but label '
                                 f'{colour.shape[1]}x{colour.shape[0]} pixels')
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            return dict(key=key, split=split, status='failed', error=f'{key}: {e}')
        label, unknown = self.table(colour)
        names = []
        height, width = label.shape
        for x, y in sliding_windows(width, height, self.size, self.size - self.stride).tolist():
            name = self.name_format.format(
                key=key, x0=x, y0=y, x1=x + self.size, y1=y + self.size)
            img_file, label_file = self.crop_files(split, name)
            for path, array, pad in ((img_file, img, 0), (label_file, label, IGNORE_INDEX)):
                crop = crop_patch(array, x, y, self.size, pad)
                atomic_write_bytes(path, cv2.imencode('.png', crop)[1].tobytes())
            names.append(name)
        record = dict(key=key, split=split, crops=names, unknown=dict(unknown))
        self.state.mark_done(key, record)
        return dict(record, status='converted')

    def run(self, items: Sequence[Dict[str, Any]], nproc: int = 1) -> Dict[str, Any]:
        """Convert all items not done yet, with a progress bar; write and return the report.

        Raises:
            NothingReadError: no image could be read (after writing the report).
        """
        self.prepare(sorted({item['split'] for item in items}))
        records = process_with_progress(self, items, nproc)
        done = [r for r in records if r['status'] != 'failed']
        unknown: Counter = Counter()
        for record in done:
            unknown.update(record['unknown'])
        report = dict(
            out_dir=self.out_dir, settings=self.settings,
            images=count_statuses(records),
            crops=dict(Counter(r['split'] for r in done for _ in r['crops'])),
            unknown_colours=dict(unknown.most_common()),
            failed=[r['error'] for r in records if r['status'] == 'failed'])
        path = write_run_report(self.out_dir, 'convert_report', report)
        images = report['images']
        print_log(f"{images.get('converted', 0)} images converted, "
                  f"{images.get('resumed', 0)} already done, {images.get('failed', 0)} "
                  f"failed; crops per split {report['crops']}; "
                  f'{sum(unknown.values())} pixels of unknown colours (ignored); '
                  f'report: {path}', logger='current',
                  level=logging.WARNING if report['failed'] or unknown else logging.INFO)
        if not done:
            places = sorted({image[0] or osp.dirname(image[1])
                             for image in (item['image'] for item in items)})
            raise NothingReadError(
                f'no image could be read: {len(items)} images expected, looked for in '
                f"{', '.join(places[:3])}{' ...' if len(places) > 3 else ''}; errors: "
                f"{report['failed'][:3]}; see {path}")
        return report
