"""The runner of segmentation pre-training (SEP): one config key, ``samrs_sets``, fixes the sets.

mmengine resolves a config file's variables when it reads the file, so a child config or a
command line (``--cfg-options samrs_sets="['SOTA','SIOR']"``) that changes the top-level
``samrs_sets`` would leave the model's heads and the datasets' sets as they were. The parts
that depend on the sets are therefore filled in when the runner is built, from the final
``samrs_sets`` (:func:`apply_samrs_sets`):

* ``model.heads``: set name -> number of classes (one classifier per set);
* ``sets`` of every loader's ``SAMRSMultiSetDataset`` (training, validation, test).

The rest follows from the datasets: ``ProportionalMultiSourceSampler`` takes the set sizes
from the concatenated dataset, ``MultiSetIoUMetric`` and ``SAMRSVisualizationHook`` the sets
and their classes from its metainfo.
"""
import copy
from typing import Union

from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

from mmsamrs.datasets.samrs_sets import set_heads
from mmsamrs.registry import RUNNERS

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def apply_samrs_sets(cfg: Union[Config, ConfigDict]) -> Union[Config, ConfigDict]:
    """Fill in ``model.heads`` and the loaders' dataset ``sets`` from ``cfg.samrs_sets``
    (in place; returns ``cfg``).

    Raises:
        KeyError: the config has no ``samrs_sets``.
        ValueError: a set is malformed (see :mod:`mmsamrs.datasets.samrs_sets`).
    """
    if cfg.get('samrs_sets') is None:
        raise KeyError(f'{getattr(cfg, "filename", None) or "the config"}: no samrs_sets, the '
                       "list of SAMRS sets to pre-train on, e.g. samrs_sets = ['SOTA', 'SIOR']")
    sets = list(cfg.samrs_sets)
    cfg.model.heads = set_heads(sets)
    for loader in LOADERS:
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if str(dataset.get('type', '')).split('.')[-1] == 'SAMRSMultiSetDataset':
            dataset.sets = copy.deepcopy(sets)
    return cfg


@RUNNERS.register_module()
class SEPRunner(Runner):
    """mmengine's ``Runner`` with the model's heads and the datasets' sets taken from the
    config's ``samrs_sets`` (see the module docstring).

    Config: ``runner_type = 'mmsamrs.SEPRunner'`` (``configs/_base_/sep_runtime.py``); the
    tools build it with ``RUNNERS.build(cfg)``, as mmseg's tools do.
    """

    @classmethod
    def from_cfg(cls, cfg: Union[Config, ConfigDict]) -> 'SEPRunner':
        """Build the runner from a copy of ``cfg`` completed by :func:`apply_samrs_sets`."""
        return super().from_cfg(apply_samrs_sets(copy.deepcopy(cfg)))
