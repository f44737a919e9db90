"""The resumable-job machinery: state folder, stale temporary files, markers, report."""
import inspect
import json
import logging
import os

import pytest
from mmengine.logging import MMLogger

from mmsamrs.utils import (IGNORE_INDEX, JobState, count_statuses, process_with_progress,
                           write_run_report)


def test_prepare_creates_folders_removes_stale_files_and_pins(tmp_path):
    out = tmp_path / 'out'
    state = JobState(str(out), '.job', dict(size=4), 'crops')
    state.prepare([str(out / 'img')])
    assert (out / 'img').is_dir() and (out / '.job' / 'done').is_dir()
    assert json.loads((out / '.job' / 'settings.json').read_text()) == dict(size=4)
    stale = [out / '.r.json.0123.tmp', out / 'img' / '.a.png.0123.tmp',
             out / '.job' / '.settings.json.0123.tmp', out / '.job' / 'done' / '.a.json.1.tmp']
    for path in stale:
        path.write_bytes(b'partial')
    (out / 'img' / 'notes.tmp').write_bytes(b'mine')  # not hidden: not ours
    logger = MMLogger.get_current_instance()
    logged = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())
    logger.addHandler(handler)
    try:
        JobState(str(out), '.job', dict(size=4), 'crops').prepare([str(out / 'img')])
    finally:
        logger.removeHandler(handler)
    assert not any(path.exists() for path in stale)
    assert (out / 'img' / 'notes.tmp').exists()
    assert 'removed 4 temporary files left by a killed run' in logged
    with pytest.raises(ValueError, match=f'the crops in {out} were made with other settings'):
        JobState(str(out), '.job', dict(size=8), 'crops').prepare()


def test_markers_hold_the_record_and_stay_inside(tmp_path):
    state = JobState(str(tmp_path), '.job', {}, 'crops')
    state.prepare()
    assert state.finished('a') is None
    state.mark_done('a', dict(crops=['a_0'], n=1))
    assert state.finished('a') == dict(crops=['a_0'], n=1)
    assert os.listdir(tmp_path / '.job' / 'done') == ['a.json']
    with pytest.raises(ValueError, match='not inside'):
        state.mark_done('../../escape', {})
    with pytest.raises(ValueError, match='not inside'):
        JobState(str(tmp_path), '../elsewhere', {}, 'crops')


def square(x):
    return dict(status='failed' if x < 0 else 'done', value=x * x)


def test_progress_runner_and_counts():
    assert process_with_progress(square, []) == []
    records = process_with_progress(square, [1, -2, 3])
    assert [r['value'] for r in records] == [1, 4, 9]
    assert process_with_progress(square, [1, -2, 3], nproc=2) == records
    assert count_statuses(records) == dict(done=2, failed=1, total=3)


def test_run_report(tmp_path):
    path = write_run_report(str(tmp_path), 'split_report', dict(images=dict(total=1)))
    assert os.path.dirname(path) == str(tmp_path)
    name = os.path.basename(path)
    assert name.startswith('split_report_') and name.endswith('.json')
    assert json.loads(open(path).read()) == dict(images=dict(total=1))
    with pytest.raises(ValueError, match='not inside'):
        write_run_report(str(tmp_path), '../report', {})
    with pytest.raises(ValueError):
        write_run_report(str(tmp_path), 'nan', dict(x=float('nan')))


def test_ignore_index_is_mmseg_default():
    """Label maps and mmseg's losses/metrics agree on the ignored value without config."""
    from mmseg.evaluation import IoUMetric
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    for cls in (BaseDecodeHead, IoUMetric):
        assert inspect.signature(cls.__init__).parameters['ignore_index'].default \
            == IGNORE_INDEX == 255
