"""Backbones of the SAMRS model zoo that mmseg lacks (ViTAEv2, InternImage, ViT-Adapter, RVSA).

ResNet-50, Swin-T, ViT-B and BEiT come from mmseg.
"""
from .internimage import InternImage
from .vit_adapter import ViTAdapter
from .vit_rvsa import ViTRVSA
from .vitae_v2 import ViTAEv2

__all__ = ['InternImage', 'ViTAdapter', 'ViTRVSA', 'ViTAEv2']
