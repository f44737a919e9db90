"""Parsing the fields of source annotations: finite numbers, 0/1 flags, XML elements and
image sizes, and class-name spellings.

A bad field raises :class:`~mmsamrs.datasets.sources.problems.AnnotationError` of kind
``bad_number`` (NaN, inf or not a number), ``bad_fields`` (a missing or empty XML
element) or ``broken_xml`` (unparsable XML or another root element), which the reader
locates (file, line or object) and handles as its ``strict`` option says.
"""
import math
import re
import xml.etree.ElementTree as ET
from typing import Dict, List, Mapping, Optional, Sequence

from .image_header import Size
from .problems import AnnotationError


def normalize_name(name: str) -> str:
    """Lower-case ``name`` and turn each run of spaces, ``_`` and ``-`` into one ``-``."""
    return re.sub(r'[\s_\-]+', '-', name.strip().lower())


def build_name_map(spellings: Mapping[str, Sequence[str]]) -> Dict[str, str]:
    """Map normalised source spellings (and each canonical name) to the canonical name."""
    name_map: Dict[str, str] = {}
    for canonical, extra in spellings.items():
        for spelling in (canonical, *extra):
            key = normalize_name(spelling)
            if name_map.setdefault(key, canonical) != canonical:
                raise ValueError(f'spelling {spelling!r} maps to two classes')
    return name_map


def to_float(text: str, what: str) -> float:
    """Parse a finite float; raise ``AnnotationError('bad_number')`` otherwise."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise AnnotationError('bad_number', f'{what}: expected a number, got {text!r}')
    if not math.isfinite(value):
        raise AnnotationError('bad_number', f'{what}: expected a finite number, got {text!r}')
    return value


def to_flag(text: str, what: str = 'difficult') -> int:
    """Parse an integer flag as 0/1 (any non-zero integer is 1)."""
    try:
        return int(int(text) != 0)
    except (TypeError, ValueError):
        raise AnnotationError('bad_number', f'{what}: expected an integer flag, got {text!r}')


def parse_xml(content: bytes, root_tag: str) -> ET.Element:
    """Parse XML bytes and check the root element; ``broken_xml`` otherwise."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as err:
        raise AnnotationError('broken_xml', f'broken XML ({err})', line=err.position[0])
    if root.tag != root_tag:
        raise AnnotationError(
            'broken_xml', f'expected root element <{root_tag}>, got <{root.tag}>')
    return root


def xml_text(elem: ET.Element, path: str) -> str:
    """Return the stripped text at ``path``; ``bad_fields`` when missing or empty."""
    node = elem.find(path)
    text = (node.text or '').strip() if node is not None else ''
    if not text:
        raise AnnotationError('bad_fields', f'missing or empty <{path}>')
    return text


def xml_optional(elem: ET.Element, path: str) -> str:
    """Return the stripped text at ``path``, ``''`` when missing or empty."""
    node = elem.find(path)
    return (node.text or '').strip() if node is not None else ''


def xml_floats(elem: ET.Element, paths: Sequence[str]) -> List[float]:
    """Parse the numbers at ``paths`` (see :func:`to_float`)."""
    return [to_float(xml_text(elem, p), f'<{p}>') for p in paths]


def xml_size(root: ET.Element, width_path: str, height_path: str) -> Optional[Size]:
    """Return ``(width, height)`` from the XML, or None when absent or not positive."""
    try:
        size = (int(float(xml_optional(root, width_path))),
                int(float(xml_optional(root, height_path))))
    except ValueError:
        return None
    return size if min(size) > 0 else None
