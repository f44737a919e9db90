"""Reproducible few-label subsets of a training set (paper section 4.3, Tables 5-6).

A subset keeps the first ``floor(n * fraction)`` samples of the seeded SHA-256 order of
:func:`mmsamrs.datasets.split_files.split_stems` (its validation part), a sample being named by
its image file stem. The choice depends only on the names, the fraction and the seed: not
on file order, machine or library version. For one seed, smaller subsets are contained in
larger ones (the 1% subset lies inside the 3% one, which lies inside the 5% one).
"""
import os.path as osp
from typing import List, Sequence, Union

from mmengine.dataset import BaseDataset

from mmsamrs.registry import DATASETS
from .split_files import split_stems


def subset_indices(stems: Sequence[str], fraction: float, seed: int = 2023) -> List[int]:
    """Sorted indices of the ``floor(len(stems) * fraction)`` stems chosen for ``seed``.

    Raises:
        ValueError: ``fraction`` not in (0, 1), or it selects no sample.
    """
    if not 0 < fraction < 1:
        raise ValueError(f'fraction must be in (0, 1), got {fraction}')
    chosen = set(split_stems(stems, val_ratio=fraction, seed=seed)[1])
    if not chosen:
        raise ValueError(f'fraction {fraction} of {len(stems)} samples selects none')
    return [i for i, stem in enumerate(stems) if stem in chosen]


def seeded_subset(dataset: Union[BaseDataset, dict], fraction: float,
                  seed: int = 2023) -> BaseDataset:
    """Build ``dataset`` and keep its reproducible ``fraction`` (see the module docstring).

    Registered as ``SeededSubset``; config usage (e.g. 1% of the training set)::

        train_dataloader = dict(dataset=dict(
            _delete_=True, type='SeededSubset', fraction=0.01,
            dataset=_base_.train_dataloader.dataset))

    Returns the dataset itself, reduced in place (``get_subset_``), so its class, metainfo
    and pipeline are unchanged.
    """
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dataset)
    dataset.full_init()
    stems = [osp.splitext(osp.basename(dataset.get_data_info(i)['img_path']))[0]
             for i in range(len(dataset))]
    dataset.get_subset_(subset_indices(stems, fraction, seed))
    return dataset


DATASETS.register_module(name='SeededSubset', module=seeded_subset)
