"""Scoped registries of mmsamrs (scope ``'mmsamrs'``).

Each registry is a child of mmsegmentation's (whose parents are mmengine's), so a config
with ``default_scope='mmsamrs'`` and ``custom_imports=dict(imports=['mmsamrs'])`` finds our
classes first and mmseg's/mmengine's by plain name; mmdet's and mmrotate's classes are
reached with their scope prefix, e.g. ``type='mmdet.PackDetInputs'``.
"""
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmengine.registry import Registry

DATASETS = Registry('dataset', parent=MMSEG_DATASETS, locations=['mmsamrs.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMSEG_DATA_SAMPLERS, locations=['mmsamrs.datasets'])
TRANSFORMS = Registry('transform', parent=MMSEG_TRANSFORMS, locations=['mmsamrs.datasets'])
MODELS = Registry('model', parent=MMSEG_MODELS, locations=['mmsamrs.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMSEG_MODEL_WRAPPERS, locations=['mmsamrs.models'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmsamrs.engine'])
HOOKS = Registry('hook', parent=MMSEG_HOOKS, locations=['mmsamrs.engine'])
LOOPS = Registry('loop', parent=MMSEG_LOOPS, locations=['mmsamrs.engine'])
METRICS = Registry('metric', parent=MMSEG_METRICS, locations=['mmsamrs.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMSEG_EVALUATOR, locations=['mmsamrs.evaluation'])
VISUALIZERS = Registry(
    'visualizer', parent=MMSEG_VISUALIZERS, locations=['mmsamrs.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMSEG_VISBACKENDS, locations=['mmsamrs.visualization'])
