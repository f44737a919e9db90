"""Runner loops of mmsamrs."""
from .generation_loop import GenerationLoop
from .prompt_study_loop import PromptStudyLoop

__all__ = ['GenerationLoop', 'PromptStudyLoop']
