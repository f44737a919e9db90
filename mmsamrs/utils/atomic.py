"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

A reader (or a resumed run) therefore sees either the previous file or the complete new
one, never a partial file, whatever point a process is killed at. Atomicity is against
process crashes (including SIGKILL); nothing is fsynced, so it does not guard against a
power loss. A killed writer can leave its temporary file behind: such files are hidden
(``.<name>.<random>.tmp``) and :func:`remove_stale_temp_files` deletes them.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
from typing import Any, BinaryIO, Iterator, Optional

TMP_SUFFIX = '.tmp'
#: Folder, beside the target, in which :func:`atomic_path` stages files.
STAGING_DIR = '.partial'


@contextlib.contextmanager
def atomic_open(path: str) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing; it appears, complete, only when the block ends.

    If the block raises, the temporary file is removed and ``path`` is left untouched.
    The file gets the usual permissions (``0o666`` minus the umask).
    """
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f'.{name}.{secrets.token_hex(8)}{TMP_SUFFIX}')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, 'wb') as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a path to write ``path``'s content to (for writers that need a file name, such
    as GDAL drivers); it is moved into place when the block ends. The staged file keeps
    the name, hence the extension the writer expects, in :data:`STAGING_DIR` beside the
    target; if the block raises, it is removed and ``path`` is left untouched."""
    staging = os.path.join(os.path.dirname(path), STAGING_DIR)
    os.makedirs(staging, exist_ok=True)
    tmp = os.path.join(staging, os.path.basename(path))
    with contextlib.suppress(FileNotFoundError):
        os.remove(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as f:
        f.write(data)


def atomic_write_json(path: str, obj: Any, indent: Optional[int] = None) -> None:
    """Write ``obj`` to ``path`` as strict JSON (UTF-8), atomically.

    Raises:
        ValueError: ``obj`` holds a NaN or infinity, which strict JSON cannot hold
            (nothing is written).
    """
    atomic_write_bytes(path, json.dumps(obj, indent=indent, allow_nan=False).encode('utf-8'))


def remove_stale_temp_files(directory: str) -> int:
    """Delete temporary files left in ``directory`` by killed writers; return how many.

    Only call it when no process is writing into ``directory`` (e.g. after all ranks
    finished), since a live writer's temporary file looks the same.
    """
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.startswith('.') and entry.name.endswith(TMP_SUFFIX):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(entry.path)
                    removed += 1
    return removed
