"""Runner loops and hooks of mmsamrs."""
from .generation_loop import GenerationLoop
from .prompt_study_loop import PromptStudyLoop
from .visualization_hook import SAMRSVisualizationHook

__all__ = ['GenerationLoop', 'PromptStudyLoop', 'SAMRSVisualizationHook']
