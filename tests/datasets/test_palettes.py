"""The class palettes are clearly distinct: CIEDE2000 between any two classes of a set.

sRGB -> CIELAB and CIEDE2000 are written out here from the standard formulas (Sharma,
Wu and Dalal 2005), independently of ``mmsamrs``, and checked against their test pairs.
"""
import itertools
import math

import pytest

from mmsamrs.datasets import SIOR_CLASSES, SOTA_CLASSES
from mmsamrs.datasets.class_names import FAST_CLASSES, HRSC_CLASSES, make_palette
from mmsamrs.datasets.samrs import FASTDataset, SIORDataset, SOTADataset


def lab(rgb):
    """CIELAB (D65, 2 degrees) of an sRGB colour 0-255."""
    def linear(v):
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055)**2.4
    r, g, b = (linear(float(v)) for v in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t):
        return t**(1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def ciede2000(lab1, lab2):
    """CIEDE2000 colour difference (kL = kC = kH = 1)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    h1 = math.degrees(math.atan2(b1, a1)) % 360 if c1 else 0.0
    h2 = math.degrees(math.atan2(b2, a2)) % 360 if c2 else 0.0
    dh = h2 - h1
    if c1 * c2 == 0:
        dh = 0.0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    d_big_h = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_mean - 30))
         + 0.24 * math.cos(math.radians(2 * h_mean))
         + 0.32 * math.cos(math.radians(3 * h_mean + 6))
         - 0.20 * math.cos(math.radians(4 * h_mean - 63)))
    s_l = 1 + 0.015 * (l_mean - 50)**2 / math.sqrt(20 + (l_mean - 50)**2)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    r_t = (-2 * math.sqrt(c_mean**7 / (c_mean**7 + 25**7))
           * math.sin(math.radians(60 * math.exp(-((h_mean - 275) / 25)**2))))
    dl, dc, dh_ = (l2 - l1) / s_l, (c2 - c1) / s_c, d_big_h / s_h
    return math.sqrt(dl**2 + dc**2 + dh_**2 + r_t * dc * dh_)


@pytest.mark.parametrize('lab1, lab2, expected', [
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
    ((50, -1.3802, -84.2814), (50, 0, -82.7485), 1.0000),
    ((50, 2.5, 0), (50, 0, -2.5), 4.3065),
    ((50, 2.5, 0), (73, 25, -18), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
])
def test_ciede2000_matches_the_published_pairs(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_lab_of_known_colours():
    assert lab((255, 255, 255)) == pytest.approx((100, 0, 0), abs=0.01)
    assert lab((255, 0, 0)) == pytest.approx((53.24, 80.09, 67.20), abs=0.02)


@pytest.mark.parametrize('classes, min_delta', [
    (SOTA_CLASSES, 10), (SIOR_CLASSES, 10), (FAST_CLASSES, 8.5), (HRSC_CLASSES, 0)])
def test_every_two_classes_of_a_set_are_distinct(classes, min_delta):
    labs = [lab(c) for c in make_palette(len(classes))]
    pairs = {(classes[i], classes[j]): ciede2000(labs[i], labs[j])
             for i, j in itertools.combinations(range(len(classes)), 2)}
    closest = min(pairs, key=pairs.get, default=None)
    assert closest is None or pairs[closest] >= min_delta, (closest, pairs[closest])
    # no class colour near black (unlabelled pixels of color/ PNGs) or white
    assert min(ciede2000(x, lab(c)) for x in labs for c in ((0, 0, 0), (255, 255, 255))) >= 15


def test_frequent_sota_classes_and_the_datasets_use_the_palette():
    palette = SOTADataset.METAINFO['palette']
    assert palette == make_palette(len(SOTA_CLASSES))
    index = {name: i for i, name in enumerate(SOTA_CLASSES)}
    small, large = (lab(palette[index[n]]) for n in ('small-vehicle', 'large-vehicle'))
    assert ciede2000(small, large) >= 20
    assert lab(palette[index['soccer-ball-field']])[0] >= 35  # not near-black
    assert SIORDataset.METAINFO['palette'] == make_palette(len(SIOR_CLASSES))
    assert FASTDataset.METAINFO['palette'] == make_palette(len(FAST_CLASSES))
    assert make_palette(37)[:18] == palette  # a class keeps its colour in larger sets
