"""Machinery of resumable jobs over many items (splitting images, converting datasets).

A job's unit of work is one item (an image): it writes the item's outputs atomically
(:mod:`mmsamrs.utils.atomic`), then, last, the item's completion marker
``<out_dir>/<state>/done/<key>.json`` holding the item's record. A rerun skips items
whose marker exists (and, as the job checks, whose outputs are all present) and redoes the
others, e.g. the item being written when a run was killed. ``<out_dir>/<state>/
settings.json`` pins the settings that change the outputs
(:mod:`mmsamrs.utils.pinned_settings`), so a run with other settings refuses to mix its
outputs in. A run first deletes the hidden temporary files a killed run left behind (so
two runs must not write into one folder at the same time), processes the items with a
progress bar, and writes a report ``<out_dir>/<prefix>_<time>.json``.
"""
import json
import logging
import os
import os.path as osp
import time
from collections import Counter
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from mmengine.logging import print_log
from mmengine.utils import track_parallel_progress, track_progress

from .atomic import atomic_write_json, remove_stale_temp_files
from .paths import safe_join
from .pinned_settings import pin_settings

SETTINGS_FILE = 'settings.json'
DONE_DIR = 'done'


class NothingReadError(RuntimeError):
    """A run in which no input item (image) could be read."""


class JobState:
    """The state folder of a resumable job: pinned settings and completion markers.

    Args:
        out_dir: the job's output folder.
        state_dir: name of the (hidden) state folder inside it, e.g. ``'.split'``.
        settings: the settings that change the outputs, pinned by :meth:`prepare`.
        outputs: what the outputs are, for messages (e.g. ``'patches'``).
    """

    def __init__(self, out_dir: str, state_dir: str, settings: Mapping[str, Any],
                 outputs: str) -> None:
        self.out_dir = out_dir
        self.settings = settings
        self.outputs = outputs
        self.state_dir = safe_join(out_dir, state_dir)
        self.done_dir = safe_join(self.state_dir, DONE_DIR)

    def prepare(self, folders: Sequence[str] = ()) -> None:
        """Create ``folders`` and the state folder, delete the temporary files a killed run
        left in them (and in ``out_dir``), then pin the settings or check them against a
        former run's (``ValueError`` when they differ)."""
        folders = [*folders, self.done_dir]
        for folder in folders:
            os.makedirs(folder, exist_ok=True)
        removed = sum(remove_stale_temp_files(folder)
                      for folder in dict.fromkeys([self.out_dir, self.state_dir, *folders]))
        if removed:
            print_log(f'removed {removed} temporary files left by a killed run',
                      logger='current', level=logging.WARNING)
        pin_settings(osp.join(self.state_dir, SETTINGS_FILE), self.settings,
                     f'the {self.outputs} in {self.out_dir}',
                     'use another output folder or delete it')

    def marker(self, key: str) -> str:
        """Path of the completion marker of item ``key`` (``ValueError`` unless it lies
        inside the ``done`` folder)."""
        return safe_join(self.done_dir, key + '.json')

    def finished(self, key: str) -> Optional[Dict[str, Any]]:
        """The record of item ``key`` if it was finished, else ``None``."""
        marker = self.marker(key)
        if not osp.isfile(marker):
            return None
        with open(marker, encoding='utf-8') as f:
            return json.load(f)

    def mark_done(self, key: str, record: Mapping[str, Any]) -> None:
        """Write the completion marker of item ``key`` (call it after all its outputs)."""
        atomic_write_json(self.marker(key), record)


def process_with_progress(func: Callable[[Any], Dict[str, Any]], items: Sequence[Any],
                          nproc: int = 1) -> List[Dict[str, Any]]:
    """Apply ``func`` to every item with mmengine's progress bar (``nproc`` processes)."""
    if not items:
        return []
    if nproc > 1:
        return track_parallel_progress(func, list(items), nproc)
    return track_progress(func, list(items))


def count_statuses(records: Sequence[Mapping[str, Any]]) -> Dict[str, int]:
    """Records per ``status`` (e.g. ``split``, ``resumed``, ``failed``) and ``total``."""
    return dict(Counter(r['status'] for r in records), total=len(records))


def write_run_report(out_dir: str, prefix: str, report: Mapping[str, Any]) -> str:
    """Write ``report`` atomically as ``<out_dir>/<prefix>_<time>.json``; return its path."""
    path = safe_join(out_dir, f"{prefix}_{time.strftime('%Y%m%d_%H%M%S')}.json")
    atomic_write_json(path, report, indent=2)
    return path
