"""Scoped registries of mmsamrs (scope ``'mmsamrs'``).

Each registry is a child of mmsegmentation's (whose parents are mmengine's), so a config
with ``default_scope='mmsamrs'`` and ``custom_imports=dict(imports=['mmsamrs'])`` finds our
classes first and mmseg's/mmengine's by plain name; mmdet's and mmrotate's classes are
reached with their scope prefix, e.g. ``type='mmdet.PackDetInputs'``. A child looks into
its parent's modules without importing them, so each registry's ``locations`` also names
the mmseg modules that register into the parent.
"""
from typing import List

from mmengine.registry import Registry
from mmseg import registry as mmseg_registry


def child(name: str, parent: Registry, ours: List[str]) -> Registry:
    """A registry of scope ``mmsamrs`` under ``parent``, importing ours and the parent's."""
    return Registry(name, parent=parent, locations=ours + list(parent._locations))


DATASETS = child('dataset', mmseg_registry.DATASETS, ['mmsamrs.datasets'])
DATA_SAMPLERS = child('data sampler', mmseg_registry.DATA_SAMPLERS, ['mmsamrs.datasets'])
TRANSFORMS = child('transform', mmseg_registry.TRANSFORMS, ['mmsamrs.datasets'])
MODELS = child('model', mmseg_registry.MODELS, ['mmsamrs.models'])
MODEL_WRAPPERS = child('model_wrapper', mmseg_registry.MODEL_WRAPPERS, ['mmsamrs.models'])
WEIGHT_INITIALIZERS = child('weight initializer', mmseg_registry.WEIGHT_INITIALIZERS,
                            ['mmsamrs.models'])
TASK_UTILS = child('task util', mmseg_registry.TASK_UTILS, ['mmsamrs.models'])
OPTIMIZERS = child('optimizer', mmseg_registry.OPTIMIZERS, ['mmsamrs.engine'])
OPTIM_WRAPPERS = child('optim_wrapper', mmseg_registry.OPTIM_WRAPPERS, ['mmsamrs.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = child('optimizer wrapper constructor',
                                   mmseg_registry.OPTIM_WRAPPER_CONSTRUCTORS,
                                   ['mmsamrs.engine'])
PARAM_SCHEDULERS = child('parameter scheduler', mmseg_registry.PARAM_SCHEDULERS,
                         ['mmsamrs.engine'])
HOOKS = child('hook', mmseg_registry.HOOKS, ['mmsamrs.engine'])
LOOPS = child('loop', mmseg_registry.LOOPS, ['mmsamrs.engine'])
RUNNERS = child('runner', mmseg_registry.RUNNERS, ['mmsamrs.engine'])
METRICS = child('metric', mmseg_registry.METRICS, ['mmsamrs.evaluation'])
EVALUATOR = child('evaluator', mmseg_registry.EVALUATOR, ['mmsamrs.evaluation'])
VISUALIZERS = child('visualizer', mmseg_registry.VISUALIZERS, ['mmsamrs.visualization'])
VISBACKENDS = child('vis_backend', mmseg_registry.VISBACKENDS, ['mmsamrs.visualization'])
