"""Settings pinned in an output folder, so that one folder never mixes two runs' outputs.

A resumable job (splitting, converting, mask generation) writes the settings that change
its outputs into a JSON file of its output folder on the first run. A later run into that
folder must have the same settings: :func:`check_settings` refuses one that differs and
lists every difference by dotted key (``model.arch.depth: 2 in the folder, 3 now``).
Settings are compared as JSON reads them back (tuples become lists).
"""
import json
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional

from .atomic import atomic_write_json

_MISSING = object()


def json_settings(settings: Mapping[str, Any]) -> Dict[str, Any]:
    """``settings`` as they read back from JSON (tuples become lists, objects their repr).

    Raises:
        ValueError: a value is NaN or infinite (strict JSON cannot hold it).
    """
    return json.loads(json.dumps(settings, sort_keys=True, default=repr, allow_nan=False))


def settings_differences(pinned: Mapping[str, Any], current: Mapping[str, Any],
                         prefix: str = '') -> List[str]:
    """One line per differing (dotted) key: ``'key: X in the folder, Y now'``."""
    lines = []
    for key in sorted(set(pinned) | set(current)):
        old, new = pinned.get(key, _MISSING), current.get(key, _MISSING)
        if isinstance(old, dict) and isinstance(new, dict):
            lines += settings_differences(old, new, f'{prefix}{key}.')
        elif old != new:
            lines.append(f'{prefix}{key}: {_show(old)} in the folder, {_show(new)} now')
    return lines


def _show(value: Any, width: int = 120) -> str:
    if value is _MISSING:
        return '(not set)'
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[:width - 3] + '...'


def read_settings(path: str) -> Optional[Dict[str, Any]]:
    """The settings pinned in the JSON file ``path``, or ``None`` when it does not exist."""
    if not osp.exists(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def write_settings(path: str, settings: Mapping[str, Any]) -> None:
    """Pin ``settings`` in the JSON file ``path`` (atomically, keys sorted, strict JSON)."""
    atomic_write_json(path, json_settings(settings), indent=2)


def check_settings(path: str, settings: Mapping[str, Any], outputs: str,
                   advice: str = 'use another output folder') -> None:
    """Refuse to add outputs made with ``settings`` to a folder whose outputs were made
    with others.

    Args:
        path: the folder's settings file.
        settings: the settings of this run.
        outputs: what the folder already holds, the subject of the message
            (``'the 3 finished images in work_dirs/x'``).
        advice: what the user can do instead, ending the message.

    Raises:
        ValueError: ``path`` does not exist, or pins settings that differ from
            ``settings`` (the message lists every difference).
    """
    pinned = read_settings(path)
    if pinned is None:
        raise ValueError(f'{outputs} have no pinned settings ({path} is missing), so it '
                         f'cannot be checked that they were made with these; {advice}')
    differences = settings_differences(pinned, json_settings(settings))
    if differences:
        raise ValueError(
            f'{outputs} were made with other settings (pinned in {path}); '
            f'{len(differences)} differ:\n  ' + '\n  '.join(differences)
            + f'\nRun with the same settings, or {advice}.')


def pin_settings(path: str, settings: Mapping[str, Any], outputs: str,
                 advice: str = 'use another output folder') -> None:
    """Pin ``settings`` in ``path`` on a folder's first run; later check them
    (:func:`check_settings`, which raises ``ValueError`` when they differ)."""
    if osp.exists(path):
        check_settings(path, settings, outputs, advice)
    else:
        write_settings(path, settings)
