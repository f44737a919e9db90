"""Runner loops of mmsamrs."""
from .generation_loop import GenerationLoop

__all__ = ['GenerationLoop']
