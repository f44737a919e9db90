"""Sample choice, overlays of the hand-made set, and the Figure 4-style grid."""
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'analysis'))
from samrs_fixture import CLASSES, write_generator_set  # noqa: E402

from mmsamrs.analysis import SetSource  # noqa: E402
from mmsamrs.datasets.class_names import make_palette  # noqa: E402
from mmsamrs.visualization import (draw_set_row, grid_size, legend_handles,  # noqa: E402
                                   pick_stems, save_sample_grid)

PALETTE = make_palette(len(CLASSES))


@pytest.fixture(scope='module')
def generator_set(tmp_path_factory):
    root = tmp_path_factory.mktemp('vis')
    write_generator_set(root / 'gen', root / 'src' / 'images')
    return SetSource.from_root(str(root / 'gen'), 'GEN', img_dir=str(root / 'src' / 'images'))


def blend(rgb, colour):
    return (np.asarray(rgb) * 0.5 + np.asarray(colour) * 0.5).astype(np.uint8).tolist()


def test_pick_stems_is_seeded_and_bounded(generator_set):
    picks = {seed: pick_stems(generator_set, 2, seed) for seed in range(6)}
    assert all(len(p) == 2 and p == sorted(p) and set(p) <= {'A', 'B', 'C'}
               for p in picks.values())
    assert pick_stems(generator_set, 2, 3) == picks[3]
    assert len({tuple(p) for p in picks.values()}) > 1
    assert pick_stems(generator_set, 10) == ['A', 'B', 'C']


def test_draw_set_row_colours_the_right_pixels(generator_set):
    row = draw_set_row(generator_set, ['A', 'C'], with_instances=True)
    assert row.name == 'GEN' and tuple(row.classes) == CLASSES and row.titles == ['A', 'C']
    assert row.present == {0, 1, 2}
    panel = row.panels[0]
    assert panel.shape == (20, 30, 3)
    # image A's pixel (r, c) is (10 r, 8 c, 200)
    assert panel[7, 7].tolist() == blend([70, 56, 200], PALETTE[2])  # inside i3 (class c)
    assert panel[19, 0].tolist() == [190, 0, 200]  # no mask: the image colour
    assert panel[2, 7].tolist() == PALETTE[2]  # i3's outline
    assert panel[0, 0].tolist() == PALETTE[0]  # i0's outline
    assert panel[17, 22].tolist() == blend([170, 176, 200], PALETTE[0])  # inside i5
    plain = draw_set_row(generator_set, ['A'])
    assert plain.panels[0][2, 7].tolist() == blend([20, 56, 200], PALETTE[2])


def test_draw_set_row_errors(generator_set, tmp_path):
    no_images = SetSource(generator_set.name, generator_set.label_dir, CLASSES)
    with pytest.raises(FileNotFoundError, match='no image A'):
        draw_set_row(no_images, ['A'])
    with pytest.raises(ValueError, match='need an instances.json'):
        draw_set_row(no_images, ['A'], with_instances=True)


def test_save_sample_grid_size(generator_set, tmp_path):
    rows = [draw_set_row(generator_set, ['A', 'B', 'C'], with_instances=True),
            draw_set_row(generator_set, ['C'], name='GEN (C only)')]
    path = tmp_path / 'grid.png'
    size = save_sample_grid(rows, str(path), panel_inches=2.0, dpi=50)
    assert size == grid_size(rows, 2.0, 50) == (round((3 + 0.8) * 100 + 15), 200)
    with Image.open(path) as image:
        assert image.format == 'PNG' and image.size == size
    with pytest.raises(ValueError, match='no panels'):
        save_sample_grid([], str(path))
    handles = legend_handles(CLASSES, PALETTE, [2, 0])
    assert [h.get_label() for h in handles] == ['0 a', '2 c']
