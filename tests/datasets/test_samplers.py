"""ProportionalMultiSourceSampler: quotas, exact batches, determinism, per-rank disjointness."""
import itertools
import random
from collections import Counter
from fractions import Fraction

import pytest
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch.utils.data import ConcatDataset

import mmsamrs.datasets.samplers as samplers
from mmsamrs.datasets import ProportionalMultiSourceSampler
from mmsamrs.datasets.samplers import proportional_quotas, split_quotas

SIZES = [30, 20, 110]


def concat(sizes=SIZES) -> ConcatDataset:
    """Source ``s`` item ``j`` is ``(s, j)``."""
    return ConcatDataset([[(s, j) for j in range(n)] for s, n in enumerate(sizes)])


def take(sampler, steps: int):
    """The first ``steps`` chunks of ``batch_size`` items, as ``(source, index)`` pairs."""
    items = [sampler.dataset[i] for i in itertools.islice(sampler, steps * sampler.batch_size)]
    return [items[k:k + sampler.batch_size] for k in range(0, len(items), sampler.batch_size)]


def as_rank(monkeypatch, rank: int, world_size: int) -> None:
    monkeypatch.setattr(samplers, 'get_dist_info', lambda: (rank, world_size))


@pytest.mark.parametrize('sizes, total, expected', [
    # 96 * L / sum(L) = 17.976, 12.058, 65.967 -> floors 17, 12, 65 (94); the two slots left
    # go to the largest remainders .976 (SOTA) and .967 (FAST)
    ([17480 * 0.95, 11725 * 0.95, 64147 * 0.95], 96, [18, 12, 66]),
    ([16606, 11139, 60940], 96, [18, 12, 66]),  # the paper's 95% train sizes
    # 12 * L / sum(L) = 2.247, 1.507, 8.246 -> 2, 1, 8 (11); one slot to .507 (SIOR)
    ([16606, 11139, 60940], 12, [2, 2, 8]),
    ([30, 20, 110], 8, [2, 1, 5]),  # 1.5, 1.0, 5.5: the tie of .5 goes to the earlier set
    ([5, 5, 5], 7, [3, 2, 2]),
    # 0.005, 49.995 -> 0, 50; the tiny set gets its one slot from the other
    ([10, 100000], 50, [1, 49]),
    ([1, 1000, 1000], 4, [1, 2, 1]),  # 1 fixed, then 1.5, 1.5 -> 2, 1
    ([1, 1, 1000], 3, [1, 1, 1]),
])
def test_quotas_by_hand(sizes, total, expected):
    assert proportional_quotas(sizes, total) == expected


def test_quotas_properties_on_random_mixes():
    rng = random.Random(0)
    for _ in range(300):
        sizes = [rng.choice([1, 3, 50, 999, 64147]) * rng.randint(1, 9)
                 for _ in range(rng.randint(1, 5))]
        total = rng.randint(len(sizes), 130)
        quotas = proportional_quotas(sizes, total)
        assert sum(quotas) == total and min(quotas) >= 1
        raised = quotas.count(1)  # an upper bound on the sets lifted to the minimum
        for size, quota in zip(sizes, quotas):
            share = Fraction(size * total, sum(sizes))
            # never a whole slot above the exact share (except the minimum itself), never
            # more than one below it plus what the lifted sets took
            assert quota == 1 or quota < share + 1
            assert quota > share - 1 - raised


def test_too_small_batch_and_bad_sizes_are_refused():
    with pytest.raises(ValueError, match='at least the number of sources'):
        proportional_quotas([10, 10, 10], 2)
    with pytest.raises(ValueError, match='positive size'):
        proportional_quotas([10, 0], 4)
    with pytest.raises(ValueError, match='at least the number of sources'):
        ProportionalMultiSourceSampler(concat(), batch_size=2, seed=0)
    with pytest.raises(TypeError, match='needs a ConcatDataset'):
        ProportionalMultiSourceSampler(list(range(10)), batch_size=2, seed=0)


def test_every_chunk_has_the_quotas_and_a_pass_covers_each_sample_once():
    sampler = ProportionalMultiSourceSampler(concat(), batch_size=8, seed=3)
    assert sampler.num_per_source == sampler.global_num_per_source == [2, 1, 5]
    chunks = take(sampler, 60)
    for chunk in chunks:
        assert Counter(s for s, _ in chunk) == {0: 2, 1: 1, 2: 5}
    first_pass = [j for chunk in chunks[:15] for s, j in chunk if s == 0]  # 15 * 2 = 30
    assert sorted(first_pass) == list(range(30))
    assert first_pass != list(range(30))  # shuffled


def test_same_seed_same_stream_other_seed_or_epoch_differs():
    first = take(ProportionalMultiSourceSampler(concat(), batch_size=8, seed=5), 20)
    sampler = ProportionalMultiSourceSampler(concat(), batch_size=8, seed=5)
    assert take(sampler, 20) == first
    assert take(sampler, 20) == first  # iterating again restarts the same stream
    assert take(ProportionalMultiSourceSampler(concat(), batch_size=8, seed=6), 20) != first
    sampler.set_epoch(1)
    assert take(sampler, 20) != first


def test_unshuffled_streams_go_in_order():
    sampler = ProportionalMultiSourceSampler(concat(), batch_size=8, shuffle=False, seed=0)
    chunk = take(sampler, 1)[0]
    assert chunk == [(0, 0), (0, 1), (1, 0), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4)]


def test_global_quotas_are_dealt_to_ranks():
    world = split_quotas([18, 12, 66], 8)  # the paper's B = 96 as 8 GPUs x 12
    assert world[0] == world[1] == [3, 1, 8]
    assert world[2] == world[3] == world[4] == world[5] == [2, 2, 8]
    assert world[6] == world[7] == [2, 1, 9]
    assert [sum(col) for col in zip(*world)] == [18, 12, 66]
    with pytest.raises(ValueError, match='evenly'):
        split_quotas([3, 4], 2)


def test_ranks_draw_disjoint_slices_of_one_global_stream(monkeypatch):
    # global batch 3 x 8 = 24: 4.5, 3.0, 16.5 -> 4, 3, 16 (23); one slot to SOTA -> 5, 3, 16
    ranks = []
    for rank in range(3):
        as_rank(monkeypatch, rank, 3)
        ranks.append(ProportionalMultiSourceSampler(concat(), batch_size=8, seed=11))
    assert all(s.global_num_per_source == [5, 3, 16] for s in ranks)
    assert [s.num_per_source for s in ranks] == [[2, 1, 5], [2, 1, 5], [1, 1, 6]]
    streams = [take(s, 6) for s in ranks]  # 6 steps: 30, 18, 96 samples of the sources
    for sampler, chunks in zip(ranks, streams):
        expected = dict(enumerate(sampler.num_per_source))
        assert all(Counter(s for s, _ in chunk) == expected for chunk in chunks)
    for source, size in enumerate(SIZES):
        drawn = [[j for chunk in chunks for s, j in chunk if s == source] for chunks in streams]
        union = [j for per_rank in drawn for j in per_rank]
        assert len(union) == len(set(union)), f'source {source}: ranks overlap'
        assert len(union) == 6 * ranks[0].global_num_per_source[source] <= size
    sota = [j for chunks in streams for chunk in chunks for s, j in chunk if s == 0]
    assert sorted(sota) == list(range(30))  # one pass of SOTA split over the ranks


def test_built_from_config_feeds_exact_batches():
    init_default_scope('mmsamrs')
    loader = Runner.build_dataloader(dict(
        batch_size=8, num_workers=0,
        sampler=dict(type='ProportionalMultiSourceSampler', batch_size=8, seed=0),
        dataset=concat()))
    assert isinstance(loader.sampler, ProportionalMultiSourceSampler)
    for sources, _ in itertools.islice(loader, 10):  # pseudo_collate: (sources, indices)
        assert Counter(sources) == {0: 2, 1: 1, 2: 5}
