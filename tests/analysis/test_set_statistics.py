"""Set statistics on the hand-counted fixture (see ``mmsamrs.testing.samrs_sets``), both layouts."""
import tracemalloc

import numpy as np
import pytest
from PIL import Image
from mmsamrs.testing.samrs_sets import CLASSES, repeat_set

from mmsamrs.analysis import SIZE_BIN_EDGES, SetSource, analyze_set, coco_stream, size_bin
from mmsamrs.analysis.statistics import INSTANCES_FROM_COMPONENTS, INSTANCES_FROM_JSON

# Pixels, from the label PNGs (either layout): A has a 75 (i0, i2, i5: 3 x 25), b 20 (i1),
# c 144 - 9 - 8 = 127 (i3 under i0 and i1), 255 elsewhere: 600 - 222 = 378; B is all 255
# (600); C is all b (100).
PIXELS = [75, 120, 127]
UNLABELLED = 378 + 600


def sizes(under_100: int, from_100_to_178: int) -> list:
    """Mask-size histogram with counts in the first two bins only."""
    return [under_100, from_100_to_178] + [0] * (len(SIZE_BIN_EDGES) - 3)


def check_common(stats) -> None:
    assert stats.classes == CLASSES
    assert stats.images == 3
    assert stats.image_sizes == {(20, 30): 2, (10, 10): 1}
    assert stats.pixels.tolist() == PIXELS
    assert stats.unlabelled_pixels == UNLABELLED
    assert stats.invalid_pixels == 0


def test_size_bins_edges():
    assert size_bin(1) == 0 and size_bin(99) == 0  # the paper's "<100 pixels"
    assert size_bin(100) == 1 and size_bin(177) == 1 and size_bin(178) == 2
    assert size_bin(10**7) == len(SIZE_BIN_EDGES) - 2 and size_bin(10**9) == size_bin(10**7)


@pytest.mark.parametrize('workers', [0, 2])
def test_generator_layout_counts_instances_from_json(samrs_dirs, workers):
    source = SetSource.from_root(str(samrs_dirs['generator']), 'GEN', 'a,b,c',
                                 img_dir=str(samrs_dirs['images']))
    stats = analyze_set(source, workers=workers, progress=False)
    check_common(stats)
    assert stats.channels == {'RGB': 2, 'L': 1}
    assert stats.instance_source == INSTANCES_FROM_JSON
    # a: i0, i2, i5; b: i1 and C's i0 (i4's mask is empty); c: i3 at its full 144 pixels
    assert stats.instances.tolist() == [3, 2, 1]
    assert stats.empty_masks == 1
    # sizes 25, 20, 25, 25 under 100; 144 and C's 100 in [100, 178)
    assert stats.size_hist.tolist() == sizes(4, 2)


def test_classes_read_from_instances_json(samrs_dirs):
    source = SetSource.from_root(str(samrs_dirs['generator']))
    assert source.classes is None and source.img_dirs == ()
    stats = analyze_set(source, progress=False)
    assert stats.classes == CLASSES and stats.instances.tolist() == [3, 2, 1]
    assert stats.channels == {}  # no image folder: channels unknown


@pytest.mark.parametrize('root', ['release', 'labels'])
def test_release_layout_counts_connected_components(samrs_dirs, root):
    path = samrs_dirs['release'] / 'hbox_segs_init' if root == 'labels' else samrs_dirs['release']
    source = SetSource.from_root(str(path), 'SET', CLASSES)
    assert source.img_dirs == (str(samrs_dirs['release'] / 'images'), )
    assert source.coco_file is None
    stats = analyze_set(source, progress=False)
    check_common(stats)
    assert stats.channels == {'RGB': 2, 'L': 1}
    assert stats.instance_source == INSTANCES_FROM_COMPONENTS
    # a: i0 (25) and i2 + i5 touching (one component of 50); b: i1 (20) and C (100);
    # c: what is visible of i3, 127 pixels in one piece
    assert stats.instances.tolist() == [2, 2, 1]
    assert stats.empty_masks == 0
    # sizes 25, 50, 20 under 100; 127 and 100 in [100, 178)
    assert stats.size_hist.tolist() == sizes(3, 2)


def test_values_outside_the_classes_are_reported(tmp_path):
    (tmp_path / 'gray').mkdir()
    label = np.full((4, 4), 255, np.uint8)
    label[0, :3] = [0, 1, 7]
    Image.fromarray(label).save(tmp_path / 'gray' / 'x.png')
    stats = analyze_set(SetSource.from_root(str(tmp_path), 'X', 'a,b'), progress=False)
    assert stats.pixels.tolist() == [1, 1] and stats.invalid_pixels == 1
    assert stats.unlabelled_pixels == 13 and stats.instances.tolist() == [1, 1]


def test_rgb_label_png_is_refused(tmp_path):
    (tmp_path / 'gray').mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / 'gray' / 'x.png')
    with pytest.raises(ValueError, match='single-channel'):
        analyze_set(SetSource.from_root(str(tmp_path), 'X', 'a'), progress=False)


def peak_bytes(source, workers: int) -> int:
    tracemalloc.start()
    try:
        analyze_set(source, workers=workers, progress=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# Allowed growth of the peak from 10x to 100x the fixture (270 more images, 1,620 more
# annotations, ~300 KB more JSON). Keeping per-image results (2 KB each: 540 KB) or a list
# of mask sizes (~60 KB) would exceed it. With workers, up to 16 results in flight (the
# bounded window) make the peak vary by tens of KB from run to run, hence more slack.
@pytest.mark.parametrize('workers,slack', [(0, 16 * 1024), (2, 128 * 1024)])
def test_memory_does_not_grow_with_the_number_of_images(samrs_dirs, tmp_path, monkeypatch,
                                                        workers, slack):
    monkeypatch.setattr(coco_stream, 'CHUNK_CHARS', 4096)  # so the JSON buffer is not the file
    peaks = {}
    for times in (10, 100):
        out = tmp_path / f'x{times}'
        repeat_set(samrs_dirs['generator'], out, times)
        source = SetSource.from_root(str(out), 'REP', CLASSES)
        stats = analyze_set(source, workers=workers, progress=False)
        assert stats.images == 3 * times
        assert stats.instances.tolist() == [3 * times, 2 * times, times]
        peaks[times] = peak_bytes(source, workers)
    assert peaks[100] - peaks[10] < slack, peaks
