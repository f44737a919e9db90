"""Runner loops and hooks of mmsamrs."""
from .generation_loop import GenerationLoop
from .layer_decay_optim_wrapper_constructor import ViTLayerDecayOptimWrapperConstructor
from .prompt_study_loop import PromptStudyLoop
from .visualization_hook import SAMRSVisualizationHook

__all__ = [
    'GenerationLoop', 'PromptStudyLoop', 'SAMRSVisualizationHook',
    'ViTLayerDecayOptimWrapperConstructor'
]
