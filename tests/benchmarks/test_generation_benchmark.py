"""Smoke test of benchmarks/generation.py: one small real image, tiny random SAM, CPU."""
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'benchmarks' / 'generation.py'


def test_generation_benchmark_runs_both_variants(realdata, tmp_path):
    image = realdata / 'dior' / 'JPEGImages' / '00001.jpg'
    report = tmp_path / 'report.md'
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), '--arch', 'tiny', '--device', 'cpu', '--images',
         str(image), '--out-md', str(report)],
        capture_output=True, text=True, cwd=str(REPO), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = report.read_text()
    assert table.strip() in proc.stdout
    assert '| | ours | official-style |' in table
    # both variants have a wall time and a throughput, and the ratio is given
    wall = re.search(r'\| wall time, end to end \(s\) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+)x', table)
    assert wall and all(float(v) > 0 for v in wall.groups()), table
    ips = re.search(r'\| images/s \| ([\d.]+) \| ([\d.]+) \| ([\d.]+)x \|', table)
    assert ips and all(float(v) > 0 for v in ips.groups()), table
    for stage in ('image encoder', 'prompt encoder + mask decoder', 'post-processing',
                  'painting', 'RLE encoding', 'PNG encoding', 'file writes'):
        assert re.search(rf'\| [^|]*{re.escape(stage)}[^|]* \| [\d.]+', table), stage
    # the same image and weights: the one DIOR golffield mask agrees closely
    agree = re.search(r'mask IoU ours vs official mean ([\d.]+)', table)
    assert agree and float(agree.group(1)) > 0.9, table
    assert '1 images, 1 boxes' in table
