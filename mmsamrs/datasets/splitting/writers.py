"""Patch annotation writers, one per source format, so the source's reader reads patches.

A writer turns a patch's instances (dicts with ``qbox``: 8 corner coordinates in patch
coordinates, ``class_name`` and ``difficult``, as in a reader's ``data_info``) into the
text of one annotation file. ``ANNOTATION_WRITERS`` maps the ``ann_format`` config key
to the writer.
"""
import xml.etree.ElementTree as ET
from typing import Dict, Sequence, Type

import numpy as np

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def format_coord(value: float) -> str:
    """Write a coordinate with at most 3 decimals and no trailing zeros (``12``, ``12.5``)."""
    return np.format_float_positional(round(float(value), 3) + 0.0, trim='-')  # no '-0'


class AnnotationWriter:
    """Base of the patch annotation writers.

    Where files go and their suffix come from the source's reader (``DEFAULT_PREFIX``,
    ``ANN_SUFFIX``); a writer only says what a file contains.
    """

    def dumps(self, image_name: str, width: int, height: int, depth: int,
              instances: Sequence[dict], data_info: dict) -> str:
        """Return the annotation text of one patch.

        Args:
            image_name: file name of the patch image (e.g. ``P0706__1024__0___0.png``).
            width, height, depth: patch image size and channel count.
            instances: the patch's objects (``qbox``, ``class_name``, ``difficult``).
            data_info: the source image's ``data_info`` (for metadata carried over).
        """
        raise NotImplementedError


class DOTAWriter(AnnotationWriter):
    """DOTA ``labelTxt``: ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult`` per line.

    The source's ``imagesource:`` and ``gsd:`` header lines are written first when its
    ``data_info`` carries ``imagesource``/``gsd``.
    """

    def dumps(self, image_name: str, width: int, height: int, depth: int,
              instances: Sequence[dict], data_info: dict) -> str:
        """Return the ``labelTxt`` text of one patch (see the class docstring)."""
        lines = [f'{key}:{data_info[key]}' for key in ('imagesource', 'gsd')
                 if data_info.get(key) is not None]
        for inst in instances:
            coords = ' '.join(format_coord(v) for v in inst['qbox'])
            lines.append(f"{coords} {inst['class_name']} {int(inst['difficult'])}")
        return ''.join(line + '\n' for line in lines)


class FAIR1MWriter(AnnotationWriter):
    """FAIR1M 2.0 XML: ``<annotation>`` with ``source/filename``, ``size`` and one
    ``objects/object`` per instance (``possibleresult/name``; ``points``: the 4 corners
    then the first again, ``"x,y"`` with 6 decimals as in the official files)."""

    def dumps(self, image_name: str, width: int, height: int, depth: int,
              instances: Sequence[dict], data_info: dict) -> str:
        """Return the XML text of one patch (see the class docstring)."""
        root = ET.Element('annotation')
        ET.SubElement(ET.SubElement(root, 'source'), 'filename').text = image_name
        size = ET.SubElement(root, 'size')
        for tag, value in (('width', width), ('height', height), ('depth', depth)):
            ET.SubElement(size, tag).text = str(value)
        objects = ET.SubElement(root, 'objects')
        for inst in instances:
            obj = ET.SubElement(objects, 'object')
            for tag, text in (('coordinate', 'pixel'), ('type', 'rectangle'),
                              ('description', 'None')):
                ET.SubElement(obj, tag).text = text
            result = ET.SubElement(obj, 'possibleresult')
            ET.SubElement(result, 'name').text = inst['class_name']
            points = ET.SubElement(obj, 'points')
            corners = np.asarray(inst['qbox'], dtype=np.float64).reshape(4, 2)
            for x, y in (*corners, corners[0]):
                ET.SubElement(points, 'point').text = f'{x:.6f},{y:.6f}'
        ET.indent(root, space='  ')
        return XML_DECLARATION + ET.tostring(root, encoding='unicode') + '\n'


ANNOTATION_WRITERS: Dict[str, Type[AnnotationWriter]] = {
    'dota': DOTAWriter,
    'fair1m': FAIR1MWriter,
}
