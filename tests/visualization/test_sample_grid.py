"""Sample choice, overlays of the hand-made set, and the Figure 4-style grid."""
import numpy as np
import pytest
from PIL import Image

from mmsamrs.analysis import SetSource
from mmsamrs.datasets.class_names import make_palette
from mmsamrs.testing.samrs_sets import CLASSES, write_generator_set
from mmsamrs.visualization import (GridRow, draw_set_row, legend_handles, pick_stems,
                                   sample_grid_figure, save_sample_grid)
from mmsamrs.visualization.figures import GAP_INCHES, TITLE_POINTS

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


def white_margins(path):
    """Widths of the all-white borders (left, right, top, bottom) and the number of
    all-white columns of a PNG."""
    with Image.open(path) as image:
        ink = np.any(np.asarray(image.convert('RGB')) < 250, axis=2)
    cols, rows = np.flatnonzero(ink.any(0)), np.flatnonzero(ink.any(1))
    return ((cols[0], ink.shape[1] - 1 - cols[-1], rows[0], ink.shape[0] - 1 - rows[-1]),
            int((~ink.any(0)).sum()))


def test_save_sample_grid_fits_its_content(generator_set, tmp_path):
    rows = [draw_set_row(generator_set, ['A', 'B', 'C'], with_instances=True),
            draw_set_row(generator_set, ['C'], name='GEN (C only)')]
    path = tmp_path / 'grid.png'
    size = save_sample_grid(rows, str(path), panel_inches=2.0, dpi=50)
    with Image.open(path) as image:
        assert image.format == 'PNG' and image.size == size
    # rows as high as their squarest image (C is 10x10: 2 in) plus titles, and gaps
    assert abs(size[1] - 50 * (3 * GAP_INCHES + 2 * (2 + TITLE_POINTS * 1.6 / 72))) <= 1
    assert 3 * 2 * 50 < size[0] < 3 * 2 * 50 + 100  # 3 panels, name and legend columns
    margins, white_columns = white_margins(path)
    assert max(margins) <= GAP_INCHES * 50 + 2  # no margin wider than a gap
    assert white_columns <= 6 * GAP_INCHES * 50 + 4  # gaps only: no empty legend space
    with pytest.raises(ValueError, match='no panels'):
        save_sample_grid([], str(path))
    handles = legend_handles(CLASSES, PALETTE, [2, 0])
    assert [h.get_label() for h in handles] == ['0 a', '2 c']


def test_no_text_of_a_grid_is_clipped(tmp_path):
    """37 classes (FAST) in small panels: the legend takes columns until it fits; titles,
    row names and legend entries all lie inside the figure."""
    classes = tuple(f'class-with-a-long-name-{i}' for i in range(37))
    panel = np.full((60, 90, 3), 128, np.uint8)
    rows = [GridRow('FAST', classes, make_palette(37), [panel, panel], ['P0001__600__0___0',
                                                                          'P0002'],
                    set(range(37))),
            GridRow('SIOR', classes[:3], make_palette(3), [panel], ['00001'], {0, 2})]
    figure = sample_grid_figure(rows, panel_inches=1.5, dpi=60)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    texts = [t for t in (*figure.texts, *(ax.title for ax in figure.axes),
                         *(t for leg in figure.legends for t in (*leg.texts, leg.get_title())))
             if t.get_text()]
    assert {'FAST', 'SIOR', 'P0002', '36 class-with-a-long-name-36'} <= \
        {t.get_text() for t in texts}
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= -0.5 and box.y0 >= -0.5, text.get_text()
        assert box.x1 <= width + 0.5 and box.y1 <= height + 0.5, text.get_text()
    assert figure.legends[0]._ncols > 1  # 37 entries do not fit one column of 1 in
    path = tmp_path / 'fast.png'
    save_sample_grid(rows, str(path), panel_inches=1.5, dpi=60)
    margins, _ = white_margins(path)
    assert max(margins) <= GAP_INCHES * 60 + 2
