"""The field parsers shared by the readers, and the image-header size reader."""
import numpy as np
import pytest
from PIL import Image

from mmsamrs.datasets.sources.image_header import read_image_size
from mmsamrs.datasets.sources.parsing import (build_name_map, normalize_name, parse_xml,
                                              to_flag, to_float, xml_floats, xml_optional,
                                              xml_size, xml_text)
from mmsamrs.datasets.sources.problems import AnnotationError


def kind_of(func, *args) -> str:
    with pytest.raises(AnnotationError) as err:
        func(*args)
    return err.value.kind


def test_numbers_and_flags():
    assert to_float(' 1.5 ', 'x') == 1.5
    for bad in ('nan', 'inf', '-inf', 'abc', None):
        assert kind_of(to_float, bad, 'x') == 'bad_number'
    with pytest.raises(AnnotationError, match="<xmin>: expected a finite number, got 'nan'"):
        to_float('nan', '<xmin>')
    assert [to_flag(t) for t in ('0', '1', '2', '-1')] == [0, 1, 1, 1]
    assert kind_of(to_flag, '0.5') == 'bad_number'


def test_class_name_spellings():
    assert normalize_name('  Small_Car - x ') == 'small-car-x'
    names = build_name_map({'small-vehicle': ('Small Car', 'small_car'), 'ship': ()})
    assert names == {'small-vehicle': 'small-vehicle', 'small-car': 'small-vehicle',
                     'ship': 'ship'}
    with pytest.raises(ValueError, match="'Ship' maps to two classes"):
        build_name_map({'ship': (), 'boat': ('Ship', )})


def test_xml_fields():
    root = parse_xml(b'<annotation><size><width>40</width><height> 30 </height></size>'
                     b'<o><x> 2 </x><y></y></o></annotation>', 'annotation')
    assert xml_size(root, 'size/width', 'size/height') == (40, 30)
    assert xml_size(root, 'size/width', 'size/depth') is None
    assert xml_text(root, 'o/x') == '2' and xml_optional(root, 'o/y') == ''
    assert xml_floats(root, ['o/x']) == [2.0]
    assert kind_of(xml_text, root, 'o/y') == 'bad_fields'
    assert kind_of(parse_xml, b'<annotation>', 'annotation') == 'broken_xml'
    with pytest.raises(AnnotationError, match='expected root element <annotation>, got <a>'):
        parse_xml(b'<a/>', 'annotation')


def test_image_size_from_header(tmp_path):
    path = tmp_path / 'a.png'
    Image.fromarray(np.zeros((3, 5, 3), np.uint8)).save(path)
    assert read_image_size(str(path)) == (5, 3)
    (tmp_path / 'b.png').write_bytes(b'not an image')
    assert kind_of(read_image_size, str(tmp_path / 'b.png')) == 'bad_image'
    assert Image.MAX_IMAGE_PIXELS is not None  # the decompression-bomb guard is restored
