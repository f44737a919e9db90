"""Decode heads of the SAMRS model zoo that mmseg lacks."""
from .multiset_mask2former_head import MultiSetMask2FormerHead
from .unet_head import UNetDecoderBlock, UNetHead

__all__ = ['MultiSetMask2FormerHead', 'UNetDecoderBlock', 'UNetHead']
