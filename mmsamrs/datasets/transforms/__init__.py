"""Data transforms of mmsamrs (SAM prompts, SAMRS augmentations)."""
from .prompts import PROMPT_NAMES, SAMPrompts, parse_prompt_setting

__all__ = ['PROMPT_NAMES', 'SAMPrompts', 'parse_prompt_setting']
