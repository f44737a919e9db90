"""Write the YOLO, YOLO-OBB, Pascal VOC and DOTA-format samples of this folder.

They hold the objects of the COCO sample (``coco/make_coco_sample.py``, run it first): the
two images of ``coco/images`` (copied unchanged) with the 20 ships and the harbor of P0706
and the golf field of DIOR 00001, as quadrilaterals before they became COCO boxes. The
classes are ``ship``, ``harbor``, ``golffield``. Each folder has the layout its reader
expects by default:

- ``yolo/``: ``images/``, ``labels/<stem>.txt`` (``cls cx cy w h``, the H-Box of each
  quadrilateral, normalised), ``classes.txt``;
- ``yolo_obb/``: the same with ``cls x1 y1 ... x4 y4`` (the corners, normalised);
- ``voc/``: ``JPEGImages/``, ``Annotations/<stem>.xml`` (``<size>``, one ``<object>``
  with ``<name>``, ``<difficult>`` and the integer ``<bndbox>`` per object);
- ``dota_custom/``: ``images/``, ``labelTxt/<stem>.txt`` (``x1 y1 ... x4 y4 class
  difficult`` in pixels, without DOTA's optional header lines).

Run from anywhere: ``python tests/data/make_format_samples.py``.
"""
import importlib.util
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
CLASSES = ('ship', 'harbor', 'golffield')
#: Image stem -> (width, height) of the images in ``coco/images``.
SIZES = {'P0706': (260, 260), '00001': (200, 200)}


def load_coco_script():
    """The module ``coco/make_coco_sample.py`` (the objects and their frame)."""
    spec = importlib.util.spec_from_file_location('make_coco_sample',
                                                  HERE / 'coco' / 'make_coco_sample.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_objects() -> Dict[str, List[Tuple[str, List[float]]]]:
    """Image stem -> ``(class, quadrilateral in pixels)`` of its objects."""
    coco = load_coco_script()
    return {'P0706': coco.dota_objects(), '00001': [('golffield', coco.golf_field())]}


def hbox(quad: List[float]) -> List[float]:
    """``[x1, y1, x2, y2]`` of the H-Box of a quadrilateral."""
    xs, ys = quad[0::2], quad[1::2]
    return [min(xs), min(ys), max(xs), max(ys)]


def yolo_line(name: str, quad: List[float], width: int, height: int) -> str:
    """``cls cx cy w h`` of the H-Box, normalised."""
    x1, y1, x2, y2 = hbox(quad)
    values = [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width,
              (y2 - y1) / height]
    return ' '.join([str(CLASSES.index(name))] + [f'{v:.6f}' for v in values])


def yolo_obb_line(name: str, quad: List[float], width: int, height: int) -> str:
    """``cls x1 y1 ... x4 y4``, the corners normalised."""
    values = [v / (width if i % 2 == 0 else height) for i, v in enumerate(quad)]
    return ' '.join([str(CLASSES.index(name))] + [f'{v:.6f}' for v in values])


def dota_line(name: str, quad: List[float], width: int, height: int) -> str:
    """``x1 y1 ... x4 y4 class difficult`` in pixels."""
    return ' '.join([f'{v:.1f}' for v in quad] + [name, '0'])


def voc_xml(stem: str, objects: List[Tuple[str, List[float]]]) -> str:
    """The Pascal VOC ``<annotation>`` of one image."""
    width, height = SIZES[stem]
    root = ET.Element('annotation')
    ET.SubElement(root, 'filename').text = f'{stem}.jpg'
    size = ET.SubElement(root, 'size')
    for key, value in (('width', width), ('height', height), ('depth', 3)):
        ET.SubElement(size, key).text = str(value)
    for name, quad in objects:
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = name
        ET.SubElement(obj, 'difficult').text = '0'
        box = ET.SubElement(obj, 'bndbox')
        for key, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), hbox(quad)):
            ET.SubElement(box, key).text = str(round(value))
    ET.indent(root)
    return ET.tostring(root, encoding='unicode') + '\n'


def copy_images(folder: Path) -> None:
    """Copy the two images of ``coco/images`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem in SIZES:
        shutil.copyfile(HERE / 'coco' / 'images' / f'{stem}.jpg', folder / f'{stem}.jpg')


def write_text_labels(root: Path, ann_dir: str, line_of) -> None:
    """One label file per image under ``root / ann_dir``, a line per object."""
    (root / ann_dir).mkdir(parents=True, exist_ok=True)
    for stem, objects in sample_objects().items():
        lines = [line_of(name, quad, *SIZES[stem]) for name, quad in objects]
        (root / ann_dir / f'{stem}.txt').write_text('\n'.join(lines) + '\n')


def main() -> None:
    """Write ``yolo/``, ``yolo_obb/``, ``voc/`` and ``dota_custom/``."""
    for name, line_of in (('yolo', yolo_line), ('yolo_obb', yolo_obb_line)):
        copy_images(HERE / name / 'images')
        write_text_labels(HERE / name, 'labels', line_of)
        (HERE / name / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')
    copy_images(HERE / 'voc' / 'JPEGImages')
    (HERE / 'voc' / 'Annotations').mkdir(parents=True, exist_ok=True)
    for stem, objects in sample_objects().items():
        (HERE / 'voc' / 'Annotations' / f'{stem}.xml').write_text(voc_xml(stem, objects))
    copy_images(HERE / 'dota_custom' / 'images')
    write_text_labels(HERE / 'dota_custom', 'labelTxt', dota_line)


if __name__ == '__main__':
    main()
