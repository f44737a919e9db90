"""Runner loops and hooks of mmsamrs."""
from .generation_loop import GenerationLoop
from .geo_export_hook import GeoSceneExportHook
from .layer_decay_optim_wrapper_constructor import ViTLayerDecayOptimWrapperConstructor
from .prompt_study_loop import PromptStudyLoop
from .sep_runner import SEPRunner, apply_samrs_sets
from .visualization_hook import SAMRSVisualizationHook

__all__ = [
    'GeoSceneExportHook', 'GenerationLoop', 'PromptStudyLoop', 'SAMRSVisualizationHook',
    'SEPRunner',
    'ViTLayerDecayOptimWrapperConstructor', 'apply_samrs_sets'
]
