"""``tools/analyze_dataset.py`` on the hand-made set, in both layouts, as a user runs it."""
import csv
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from mmsamrs.testing.samrs_sets import write_generator_set, write_release_set

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analyze_dataset.py'


@pytest.fixture(scope='module')
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp('analyze')
    write_generator_set(root / 'gen', root / 'src' / 'images')
    write_release_set(root / 'SOTA', root / 'gen', root / 'src' / 'images')
    return root


def test_config_with_two_sets_and_workers(sets, tmp_path):
    config = tmp_path / 'sets.py'
    config.write_text(
        f"sets = [dict(name='GEN', root='{sets / 'gen'}', img_dir='{sets / 'src/images'}'),\n"
        f"        dict(name='REL', root='{sets / 'SOTA'}', classes='a,b,c')]\n")
    out = tmp_path / 'out'
    run = subprocess.run([sys.executable, str(TOOL), str(config), '--out', str(out),
                          '--workers', '2'], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert '| GEN | 3 | 3 | RGB (2), L (1) | 10 × 10 ~ 20 × 30 (2 sizes) | 6 |' in run.stdout
    assert '| REL | 3 | 3 | RGB (2), L (1) | 10 × 10 ~ 20 × 30 (2 sizes) | 5 |' in run.stdout
    assert '3/3' in run.stdout  # progress bar
    with open(out / 'classes.csv', newline='') as f:
        rows = [(r['set'], r['class'], r['pixels'], r['instances']) for r in csv.DictReader(f)]
    assert rows[:3] == [('GEN', 'a', '75', '3'), ('GEN', 'b', '120', '2'), ('GEN', 'c', '127', '1')]
    for name in ('GEN_classes', 'GEN_mask_sizes', 'REL_classes', 'REL_mask_sizes'):
        with Image.open(out / f'{name}.png') as image:
            assert image.format == 'PNG'


def test_directory_with_options(sets, tmp_path, monkeypatch, capsys):
    out = tmp_path / 'out'
    monkeypatch.setattr(sys, 'argv', [str(TOOL), str(sets / 'SOTA' / 'hbox_segs_init'),
                                      '--set-name', 'SOTA', '--workers', '0', '--out', str(out)])
    runpy.run_path(str(TOOL), run_name='__main__')
    printed = capsys.readouterr().out
    # the SOTA tuple has 18 classes; the fixture's values 0-2 are its first three
    assert '| SOTA | 3 | 18 | RGB (2), L (1) | 10 × 10 ~ 20 × 30 (2 sizes) | 5 |' in printed
    assert (out / 'statistics.md').read_text().count('| large-vehicle |') == 1
