"""Few-label subsets: deterministic, of floor(n * fraction) samples, nested, seeded."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmsamrs.datasets import Potsdam5Dataset, subset_indices
from mmsamrs.registry import DATASETS

STEMS = [f'2_10_{i * 320}_0_{i * 320 + 512}_512' for i in range(250)]


def test_size_determinism_nesting_and_seed():
    chosen = {f: subset_indices(STEMS, f) for f in (0.01, 0.03, 0.05)}
    assert {f: len(idx) for f, idx in chosen.items()} == {0.01: 2, 0.03: 7, 0.05: 12}
    assert all(idx == sorted(idx) for idx in chosen.values())
    assert subset_indices(STEMS, 0.03) == chosen[0.03]
    names = {f: {STEMS[i] for i in idx} for f, idx in chosen.items()}
    assert names[0.01] < names[0.03] < names[0.05]
    # the file order does not matter, the seed does
    shuffled = list(np.random.default_rng(0).permutation(STEMS))
    assert {shuffled[i] for i in subset_indices(shuffled, 0.05)} == names[0.05]
    assert {STEMS[i] for i in subset_indices(STEMS, 0.05, seed=1)} != names[0.05]
    # pinned: the SHA-256 order is the same on every machine
    assert sorted(names[0.01]) == ['2_10_46720_0_47232_512', '2_10_76160_0_76672_512']


def test_bad_fractions():
    for fraction in (0, 1, 1.5):
        with pytest.raises(ValueError, match='fraction must be in'):
            subset_indices(STEMS, fraction)
    with pytest.raises(ValueError, match='selects none'):
        subset_indices(STEMS[:50], 0.01)


def test_seeded_subset_of_a_dataset(tmp_path: Path):
    for split in ('img_dir', 'ann_dir'):
        (tmp_path / split).mkdir()
    for stem in STEMS[:100]:
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / 'img_dir' / f'{stem}.png')
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / 'ann_dir' / f'{stem}.png')
    cfg = dict(type='Potsdam5Dataset', data_root=str(tmp_path),
               data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'))
    subset = DATASETS.build(dict(type='SeededSubset', dataset=cfg, fraction=0.03))
    assert isinstance(subset, Potsdam5Dataset) and len(subset) == 3
    assert {Path(subset.get_data_info(i)['img_path']).stem for i in range(3)} == {
        STEMS[i] for i in subset_indices(STEMS[:100], 0.03)}
