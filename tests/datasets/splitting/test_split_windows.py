"""Window grid and inside-fraction rule, on hand-computed cases."""
import numpy as np
import pytest

from mmsamrs.datasets.splitting import (WindowClipper, check_split, polygon_to_quad,
                                        sliding_windows, window_starts)


@pytest.mark.parametrize('length, size, overlap, starts', [
    (1111, 512, 100, [0, 412, 599]),  # last window moved back to end at 1111
    (1182, 512, 100, [0, 412, 670]),
    (1336, 512, 100, [0, 412, 824]),  # exact multiple: 512 + 2 * 412
    (1848, 1024, 200, [0, 824]),  # exact multiple of DOTA's default stride
    (1025, 1024, 200, [0, 1]),  # one pixel too long: no sliver, a shifted window
    (1024, 1024, 200, [0]),  # exactly one window
    (300, 512, 100, [0]),  # smaller than a window: one (padded) window
    (1000, 600, 100, [0, 400]),  # FAIR1M's common 1000 px scene, 600/100
    (1200, 600, 0, [0, 600]),  # no overlap, exact tiling
])
def test_window_starts(length, size, overlap, starts):
    assert window_starts(length, size, overlap) == starts


def test_sliding_windows_row_major():
    wins = sliding_windows(1111, 1182, 512, 100)
    assert wins.shape == (9, 2)
    assert wins[:3].tolist() == [[0, 0], [412, 0], [599, 0]]
    assert wins[-1].tolist() == [599, 670]
    assert sliding_windows(300, 200, 512, 100).tolist() == [[0, 0]]


@pytest.mark.parametrize('size, overlap, min_inside', [
    (0, 0, 0.7), (512, 512, 0.7), (512, -1, 0.7), (512, 100, 0), (512, 100, 1.5)])
def test_check_split_rejects(size, overlap, min_inside):
    with pytest.raises(ValueError):
        check_split(size, overlap, min_inside)


def rect(x1, y1, x2, y2):
    """Axis-aligned box as a DOTA quad (clockwise on screen, from the top-left)."""
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def test_inside_fraction_keep_clip_drop():
    quads = [
        rect(80, 10, 105, 20),  # 20/25 = 80% in window 0: kept, clipped at x=100
        rect(90, 40, 110, 50),  # 50% in each window: dropped from both
        rect(10, 60, 30, 80),  # wholly inside window 0: unchanged
        rect(150, 10, 160, 20),  # wholly inside window 1 only
        rect(79, 85, 109, 95),  # 21/30 = 70% exactly in window 0: kept (>=)
    ]
    clipper = WindowClipper(quads, 200, 100, min_inside=0.7)
    idx, out, frac = clipper.clip((0, 0, 100, 100))
    assert idx.tolist() == [0, 2, 4]
    np.testing.assert_allclose(out, [rect(80, 10, 100, 20), rect(10, 60, 30, 80),
                                     rect(79, 85, 100, 95)])
    np.testing.assert_allclose(frac, [0.8, 1.0, 0.7])
    idx, out, frac = clipper.clip((100, 0, 200, 100))
    assert idx.tolist() == [3]  # object 0 has 20%, object 4 30% here: dropped
    np.testing.assert_allclose(out, [rect(150, 10, 160, 20)])


def test_rotated_cut_becomes_quad_with_exact_hbox():
    # A rectangle rotated by 45 degrees (area 240); x=100 cuts its corner (106, 48): the
    # triangle (100,42) (106,48) (100,54) of area 36 leaves, 204/240 = 85% stays.
    quad = [84, 50, 96, 38, 106, 48, 94, 60]
    idx, out, frac = WindowClipper([quad], 200, 200, 0.7).clip((0, 0, 100, 100))
    # Pentagon (84,50) (96,38) (100,42) (100,54) (94,60). Removing (100,42) loses 24,
    # removing (100,54) loses 36, the others change the H-Box: (100,42) goes.
    assert idx.tolist() == [0]
    np.testing.assert_allclose(frac, [204 / 240])
    np.testing.assert_allclose(out, [[84, 50, 96, 38, 100, 54, 94, 60]])
    pts = out.reshape(4, 2)
    np.testing.assert_allclose([*pts.min(0), *pts.max(0)], [84, 38, 100, 60])


def test_objects_clipped_to_image_first():
    # Half of this box lies outside the 100x100 image: the object is its inside half,
    # which lies wholly in the window (fraction 1), clipped to the image.
    idx, out, frac = WindowClipper([rect(90, 10, 110, 20)], 100, 100, 0.7).clip(
        (0, 0, 100, 100))
    assert idx.tolist() == [0]
    np.testing.assert_allclose(out, [rect(90, 10, 100, 20)])
    np.testing.assert_allclose(frac, [1.0])


def test_zero_area_object_kept_only_when_inside():
    line_inside, line_cut = [10, 10, 20, 20, 30, 30, 40, 40], [90, 10, 95, 15, 105, 25, 110, 30]
    idx, out, _ = WindowClipper([line_inside, line_cut], 200, 200, 0.7).clip((0, 0, 100, 100))
    assert idx.tolist() == [0]
    np.testing.assert_allclose(out, [line_inside])


def test_polygon_to_quad_triangle_and_orientation():
    ref = rect(0, 0, 10, 10)  # (0,0) (10,0) (10,10) (0,10)
    # A triangle gets the midpoint of its longest edge (10,0)-(0,10) as fourth corner.
    tri = polygon_to_quad(np.array([[0, 0], [10, 0], [0, 10]]), ref)
    np.testing.assert_allclose(tri, [0, 0, 10, 0, 5, 5, 0, 10])
    # Given in the other orientation and from another corner, a quad is turned to follow
    # the reference's orientation and start corner.
    quad = polygon_to_quad(np.array([[10, 10], [10, 0], [0, 0], [0, 10]]), ref)
    np.testing.assert_allclose(quad, ref)
