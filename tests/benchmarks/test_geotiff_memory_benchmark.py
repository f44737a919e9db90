"""benchmarks/geotiff_memory.py: its object layout, and one small run checked on its JSON."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'benchmarks' / 'geotiff_memory.py'


def load_script():
    spec = importlib.util.spec_from_file_location('geotiff_memory', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_objects_fill_the_requested_windows_once():
    bench = load_script()
    boxes = bench.object_boxes(20480, 64)
    corners = {(x1 // (bench.WINDOW - bench.OVERLAP), y1 // (bench.WINDOW - bench.OVERLAP))
               for x1, y1, _, _ in boxes}
    assert len(boxes) == 3 * 64 and len(corners) == 64
    assert all(0 <= v <= 20480 for box in boxes for v in box)


@pytest.mark.slow
def test_small_run_reports_memory_per_phase(tmp_path):
    out = tmp_path / 'result.json'
    run = subprocess.run([sys.executable, str(SCRIPT), '--runs', '1024:1', '2048:2',
                          '--work-dir', str(tmp_path), '--out-json', str(out)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [(r['scene'], r['polygons']) for r in rows] == [('1024x1024', 3), ('2048x2048', 6)]
    assert rows[0]['windows'] == 1 and 2 <= rows[1]['windows'] <= 6
    for row in rows:  # sampled peaks agree with the kernel's peak within sampling noise
        assert 0 < row['setup_peak_mb'] <= row['windows_peak_mb']
        assert max(row['windows_peak_mb'], row['assembly_peak_mb']) <= row['peak_mb'] + 1
    assert '| 2048x2048 |' in run.stdout
