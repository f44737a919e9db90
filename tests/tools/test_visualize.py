"""``tools/visualize.py``: grids of overlays (run in-process: the import costs ~10 s)."""
import runpy
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'analysis'))
from samrs_fixture import write_generator_set, write_release_set  # noqa: E402

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
    # 2 panels + legend column (0.8 panel) + row label (0.3 in), 2 in each, at 50 dpi
    assert f'{out}: 2 images, 295x100 pixels' in capsys.readouterr().out
    with Image.open(out) as image:
        assert image.format == 'PNG' and image.size == (295, 100)
        assert len(np.unique(np.asarray(image.convert('RGB')).reshape(-1, 3), axis=0)) > 50


def test_visualize_release_sample(tmp_path, monkeypatch, capsys):
    write_generator_set(tmp_path / 'gen', tmp_path / 'src' / 'images')
    write_release_set(tmp_path / 'SOTA', tmp_path / 'gen', tmp_path / 'src' / 'images')
    out = tmp_path / 'sample.png'
    run_tool(monkeypatch, str(tmp_path / 'SOTA'), '--num-samples', '2', '--seed', '1',
             '--panel-inches', '1', '--out', str(out))
    assert f'{out}: 2 images, 310x100 pixels' in capsys.readouterr().out
    assert Image.open(out).size == (310, 100)
