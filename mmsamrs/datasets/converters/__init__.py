"""Converters of the fine-tuning datasets (ISPRS Potsdam, iSAID) into mmseg's layout."""
from .base import ColourTable, CropConverter, find_sources
from .isaid import ISAID_COLOURS, convert_isaid, isaid_items
from .potsdam import POTSDAM_COLOURS, POTSDAM_SPLITS, convert_potsdam, potsdam_items

__all__ = [
    'ColourTable', 'CropConverter', 'find_sources', 'ISAID_COLOURS', 'convert_isaid',
    'isaid_items', 'POTSDAM_COLOURS', 'POTSDAM_SPLITS', 'convert_potsdam', 'potsdam_items'
]
