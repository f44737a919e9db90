"""Small helpers shared across mmsamrs: path guards, atomic writes, resumable jobs."""
from .atomic import (STAGING_DIR, atomic_open, atomic_path, atomic_write_bytes, atomic_write_json,
                     remove_stale_temp_files)
from .labels import IGNORE_INDEX
from .paths import check_plain_stem, safe_join
from .pinned_settings import (check_settings, json_settings, pin_settings, read_settings,
                              settings_differences, write_settings)
from .resumable import (JobState, NothingReadError, count_statuses, process_with_progress,
                        write_run_report)

__all__ = [
    'IGNORE_INDEX', 'JobState', 'NothingReadError', 'STAGING_DIR', 'atomic_open', 'atomic_path',
    'atomic_write_bytes',
    'atomic_write_json', 'check_plain_stem', 'check_settings', 'count_statuses',
    'json_settings', 'pin_settings', 'process_with_progress', 'read_settings',
    'remove_stale_temp_files', 'safe_join', 'settings_differences', 'write_run_report',
    'write_settings'
]
