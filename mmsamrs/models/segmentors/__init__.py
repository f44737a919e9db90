"""Segmentors of mmsamrs: the multi-head segmentor of segmentation pre-training."""
from .multihead_encoder_decoder import SET_KEY, MultiHeadEncoderDecoder, SetClassifiers

__all__ = ['SET_KEY', 'MultiHeadEncoderDecoder', 'SetClassifiers']
