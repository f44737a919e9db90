"""Proportional multi-source sampling over a concatenation of the SAMRS sets.

Quotas. With ``W`` ranks of per-rank batch ``B`` the global batch ``W * B`` holds
``G_i = L_i / sum(L) * W * B`` samples of set ``i`` (``L_i`` its size), rounded by the
largest-remainder method so that ``sum(G_i) == W * B`` exactly; every set gets at least
``W`` (one per rank), the others share the rest proportionally
(:func:`proportional_quotas`). The ``G_i`` are then dealt to the ranks so that each rank
holds exactly ``B`` samples, at least one of each set, and the ranks together exactly
``G_i`` of set ``i`` (:func:`split_quotas`). With one rank the quotas are simply the
rounded ``L_i / sum(L) * B``.
"""
import itertools
from fractions import Fraction
from typing import Iterator, List, Optional, Sequence, Sized, Union

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmsamrs.registry import DATA_SAMPLERS


def proportional_quotas(sizes: Sequence[Union[int, float]], total: int,
                        minimum: int = 1) -> List[int]:
    """Split ``total`` slots in proportion to ``sizes``; each gets at least ``minimum``.

    Largest-remainder (Hamilton) rounding in exact arithmetic: every quota is the floor of
    its exact share, and the slots left go to the largest fractional parts (ties: the
    earlier source). A source whose share rounds below ``minimum`` gets exactly
    ``minimum`` and the others share the rest the same way. The quotas sum to ``total``.
    """
    if not sizes or any(size <= 0 for size in sizes):
        raise ValueError(f'need at least one source, all of positive size; got {sizes}')
    if total < minimum * len(sizes):
        raise ValueError(f'{total} slots cannot give each of {len(sizes)} sources '
                         f'{minimum}; the batch size must be at least the number of sources')
    exact = [Fraction(size) for size in sizes]
    quotas = [minimum] * len(sizes)
    free = list(range(len(sizes)))
    while True:
        slots = total - minimum * (len(sizes) - len(free))
        weight = sum(exact[i] for i in free)
        shares = {i: exact[i] * slots / weight for i in free}
        for i in free:
            quotas[i] = int(shares[i])
        by_remainder = sorted(free, key=lambda i: (-(shares[i] - quotas[i]), i))
        for i in by_remainder[:slots - sum(quotas[i] for i in free)]:
            quotas[i] += 1
        low = [i for i in free if quotas[i] < minimum]
        if not low:
            return quotas
        for i in low:
            quotas[i] = minimum
        free = [i for i in free if i not in low]


def split_quotas(global_quotas: Sequence[int], world_size: int) -> List[List[int]]:
    """Deal global per-source quotas to ranks: ``result[rank][source]``.

    Each rank gets ``q // world_size`` of every source; the remainders, laid out source
    after source, go round-robin to the ranks. Every rank's total is
    ``sum(global_quotas) / world_size`` (which must be whole) and every rank has at least
    one of each source when each global quota is at least ``world_size``.
    """
    if sum(global_quotas) % world_size:
        raise ValueError(f'{sum(global_quotas)} slots do not split evenly over '
                         f'{world_size} ranks')
    per_rank = [[q // world_size for q in global_quotas] for _ in range(world_size)]
    extras = [source for source, q in enumerate(global_quotas) for _ in range(q % world_size)]
    for position, source in enumerate(extras):
        per_rank[position % world_size][source] += 1
    return per_rank


@DATA_SAMPLERS.register_module()
class ProportionalMultiSourceSampler(Sampler):
    """Infinite, seeded, rank-aware sampler composing batches in proportion to set sizes.

    Modelled on mmdet's ``MultiSourceSampler``, with quotas computed from the sizes of
    the datasets of a ``ConcatDataset`` (see the module docstring). It yields indices into
    the ``ConcatDataset``; each consecutive chunk of ``batch_size`` indices holds exactly
    ``num_per_source[i]`` samples of source ``i`` (source by source), so the dataloader
    must use the same ``batch_size``.

    Streams. For each source and epoch, every rank draws the same infinite stream of
    shuffled passes over the source (seeded by ``(seed, epoch, source)``). Each step
    takes the next ``global_num_per_source[i]`` indices of source ``i`` for the global
    batch, and rank ``r`` keeps its own slice of them: the ranks' samples are disjoint
    and, together, every pass of a source covers each of its samples once. Iterating again
    restarts the streams, so a run is reproducible from ``seed`` (and resuming by skipping
    the trained steps sees the same data).

    Config::

        train_dataloader = dict(
            batch_size=12,  # per GPU
            sampler=dict(type='ProportionalMultiSourceSampler', batch_size=12),
            dataset=dict(type='SAMRSMultiSetDataset', sets=['SOTA', 'SIOR', 'FAST'],
                         split='train', pipeline=...))

    Args:
        dataset: a ``ConcatDataset`` (``SAMRSMultiSetDataset``, mmengine's or torch's:
            ``datasets`` and ``cumulative_sizes``).
        batch_size: per-rank batch size (the dataloader's), at least the number of sets.
        shuffle: shuffle each pass (True) or go in order.
        seed: random seed, the same on all ranks; None draws one and syncs it over ranks.
    """

    def __init__(self, dataset: Sized, batch_size: int, shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if not (hasattr(dataset, 'datasets') and hasattr(dataset, 'cumulative_sizes')):
            raise TypeError(f'{type(self).__name__} needs a ConcatDataset, got '
                            f'{type(dataset).__name__}')
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f'batch_size must be a positive int, got {batch_size!r}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        self.sizes = [len(ds) for ds in dataset.datasets]
        self.offsets = [0] + list(dataset.cumulative_sizes[:-1])
        self.global_num_per_source = proportional_quotas(
            self.sizes, batch_size * self.world_size, minimum=self.world_size)
        per_rank = split_quotas(self.global_num_per_source, self.world_size)
        self.num_per_source = per_rank[self.rank]
        self.rank_starts = [sum(q[i] for q in per_rank[:self.rank])
                            for i in range(len(self.sizes))]

    def _stream(self, source: int) -> Iterator[int]:
        """Infinite passes over one source (local indices), the same on every rank."""
        rng = np.random.default_rng([self.seed, self.epoch, source])
        size = self.sizes[source]
        while True:
            yield from (rng.permutation(size) if self.shuffle else range(size))

    def __iter__(self) -> Iterator[int]:
        streams = [self._stream(source) for source in range(len(self.sizes))]
        while True:
            for source, stream in enumerate(streams):
                block = list(itertools.islice(stream, self.global_num_per_source[source]))
                start = self.rank_starts[source]
                for index in block[start:start + self.num_per_source[source]]:
                    yield self.offsets[source] + int(index)

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch; the next iteration uses streams seeded with it."""
        self.epoch = epoch
