"""``tools/visualize.py``: grids of overlays (run in-process: the import costs ~10 s)."""
import runpy
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from mmsamrs.testing.samrs_sets import write_generator_set, write_release_set

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'visualize.py'


def run_tool(monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, 'argv', [str(TOOL), *args])
    runpy.run_path(str(TOOL), run_name='__main__')


def test_visualize_generator_output_with_instances(tmp_path, monkeypatch, capsys):
    write_generator_set(tmp_path / 'gen', tmp_path / 'src' / 'images')
    out = tmp_path / 'vis' / 'grid.png'
    run_tool(monkeypatch, str(tmp_path / 'gen'), '--set-name', 'GEN', '--img-dir',
             str(tmp_path / 'src' / 'images'), '--stems', 'A', 'C', '--instances',
             '--panel-inches', '2', '--dpi', '50', '--out', str(out))
    printed = capsys.readouterr()
    with Image.open(out) as image:
        assert image.format == 'PNG'
        assert f'{out}: 2 images, {image.size[0]}x{image.size[1]} pixels' in printed.out
        # 2 panels of 2 in at 50 dpi, A (30x20) and C (10x10): a row 2 in high + its titles
        assert 2 * 100 < image.size[0] < 2 * 100 + 80 and 100 < image.size[1] < 120
        assert len(np.unique(np.asarray(image.convert('RGB')).reshape(-1, 3), axis=0)) > 50
    assert '2/2' in printed.out + printed.err  # mmengine's progress bar over the images


def test_visualize_release_sample(tmp_path, monkeypatch, capsys):
    write_generator_set(tmp_path / 'gen', tmp_path / 'src' / 'images')
    write_release_set(tmp_path / 'SOTA', tmp_path / 'gen', tmp_path / 'src' / 'images')
    out = tmp_path / 'sample.png'
    run_tool(monkeypatch, str(tmp_path / 'SOTA'), '--num-samples', '2', '--seed', '1',
             '--panel-inches', '1', '--out', str(out))
    size = Image.open(out).size
    assert f'{out}: 2 images, {size[0]}x{size[1]} pixels' in capsys.readouterr().out
    assert 2 * 100 < size[0] < 2 * 100 + 200 and 80 < size[1] < 120
