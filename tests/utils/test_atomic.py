"""Atomic writes leave either the old file or the new one, never a partial file."""
import os
from pathlib import Path

import pytest

from mmsamrs.utils import (atomic_open, atomic_path, atomic_write_bytes, atomic_write_json,
                           remove_stale_temp_files)


def test_write_and_overwrite(tmp_path):
    path = str(tmp_path / 'a.bin')
    atomic_write_bytes(path, b'one')
    atomic_write_bytes(path, b'two')
    assert open(path, 'rb').read() == b'two'
    assert os.listdir(tmp_path) == ['a.bin']
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_failed_replace_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    path = str(tmp_path / 'a.bin')
    atomic_write_bytes(path, b'old')

    def crash(src, dst):
        raise OSError('simulated crash')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(OSError, match='simulated'):
        atomic_write_bytes(path, b'new')
    assert open(path, 'rb').read() == b'old'
    assert os.listdir(tmp_path) == ['a.bin']


def test_error_while_writing_leaves_nothing(tmp_path):
    path = str(tmp_path / 'b.json')
    with pytest.raises(RuntimeError):
        with atomic_open(path) as f:
            f.write(b'{"partial":')
            raise RuntimeError('killed mid-write')
    assert os.listdir(tmp_path) == []


def test_remove_stale_temp_files(tmp_path):
    (tmp_path / '.x.png.0123abcd.tmp').write_bytes(b'partial')
    (tmp_path / 'x.png').write_bytes(b'done')
    (tmp_path / 'notes.tmp').write_bytes(b'not ours')  # not hidden: kept
    assert remove_stale_temp_files(str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == ['notes.tmp', 'x.png']


def test_atomic_write_json_is_strict(tmp_path):
    path = str(tmp_path / 'r.json')
    atomic_write_json(path, dict(a=(1, 2)), indent=2)
    assert open(path, encoding='utf-8').read() == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    with pytest.raises(ValueError):
        atomic_write_json(path, dict(a=float('nan')))
    assert os.listdir(tmp_path) == ['r.json']  # the former file stays, no temporary file


def test_atomic_path_keeps_the_name_and_leaves_the_target_on_error(tmp_path):
    target = tmp_path / 'scene.tif'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with atomic_path(str(target)) as staged:
            assert os.path.basename(staged) == 'scene.tif' and staged != str(target)
            Path(staged).write_bytes(b'partial')
            raise RuntimeError('killed while writing')
    assert target.read_bytes() == b'old' and not os.path.exists(staged)
    with atomic_path(str(target)) as staged:
        Path(staged).write_bytes(b'new')
        assert target.read_bytes() == b'old'
    assert target.read_bytes() == b'new' and not os.path.exists(staged)
