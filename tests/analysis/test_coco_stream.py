"""Streaming COCO reader: same content as ``json.load``, whatever the layout of the file."""
import json

import pytest

from mmsamrs.analysis import (annotations_for_stems, category_label_indices,
                              classes_from_categories, iter_coco)

COCO = {
    'info': {'description': 'x', 'version': 1.5, 'nested': [1, [2, {'a': None}]]},
    'images': [{'id': 1, 'file_name': 'images/A.png', 'height': 2, 'width': 3},
               {'id': 2, 'file_name': 'B.jpg', 'stem': 'B', 'height': 2, 'width': 3}],
    'annotations': [{'id': i, 'image_id': 1 + i % 2, 'category_id': 1 + i % 3,
                     'area': 12345.5 + i, 'segmentation': {'size': [2, 3], 'counts': 'a"\\b'}}
                    for i in range(1, 8)],
    'empty': [],
    'categories': [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}, {'id': 3, 'name': 'c'}],
    'count': 1234567,
    'ratio': 12.625,
    'tiny': -2.5e-300,
}


@pytest.mark.parametrize('indent', [None, 3])
@pytest.mark.parametrize('chunk_chars', [1, 7, 64, None])
@pytest.mark.parametrize('order', ['as_is', 'reversed'])
def test_iter_coco_matches_json_load(tmp_path, indent, chunk_chars, order):
    coco = COCO if order == 'as_is' else dict(reversed(list(COCO.items())))
    path = tmp_path / 'c.json'
    path.write_text(json.dumps(coco, indent=indent))
    keys = ('images', 'annotations', 'categories', 'count', 'info', 'empty', 'ratio', 'tiny')
    got = {}
    for key, value in iter_coco(str(path), keys, chunk_chars):
        if isinstance(COCO[key], list):
            got.setdefault(key, []).append(value)
        else:
            got[key] = value
    expected = {k: v for k, v in COCO.items() if v != []}
    assert got == expected
    # unrequested keys are skipped, including a number cut at any chunk boundary
    assert [v for _, v in iter_coco(str(path), ('count', ), chunk_chars)] == [1234567]


def test_iter_coco_empty_object_and_errors(tmp_path):
    path = tmp_path / 'e.json'
    path.write_text(' {} ')
    assert list(iter_coco(str(path), ('images', ))) == []
    path.write_text('[1, 2]')
    with pytest.raises(ValueError, match='expected one of'):
        list(iter_coco(str(path), ('images', )))
    path.write_text('{"images": [{"id": 1}, {"id": ')
    with pytest.raises(json.JSONDecodeError):
        list(iter_coco(str(path), ('images', ), chunk_chars=4))


def test_annotations_for_stems(tmp_path):
    path = tmp_path / 'c.json'
    path.write_text(json.dumps(COCO))
    categories, images, annotations = annotations_for_stems(str(path), ['A', 'missing'])
    assert categories == COCO['categories']
    assert list(images) == ['A'] and images['A']['id'] == 1
    assert [a['id'] for a in annotations['A']] == [2, 4, 6]
    _, images, annotations = annotations_for_stems(str(path), ['B'])
    assert list(images) == ['B'] and [a['id'] for a in annotations['B']] == [1, 3, 5, 7]


def test_classes_from_categories():
    assert classes_from_categories([{'id': 5, 'name': 'x'}, {'id': 2, 'name': 'y'}]) == ('y', 'x')
    by_index = [{'id': 1, 'name': 'x', 'label_index': 1}, {'id': 9, 'name': 'y', 'label_index': 0}]
    assert classes_from_categories(by_index) == ('y', 'x')
    with pytest.raises(ValueError, match='label_index'):
        classes_from_categories([{'id': 1, 'name': 'x', 'label_index': 3}])
    with pytest.raises(ValueError, match='no categories'):
        classes_from_categories([])


def test_category_label_indices_by_name():
    cats = [{'id': 7, 'name': 'b'}, {'id': 3, 'name': 'a'}]
    assert category_label_indices(cats, ('a', 'b')) == {7: 1, 3: 0}
    with pytest.raises(ValueError, match="'b'.*not one of the classes"):
        category_label_indices(cats, ('a', 'c'))


def test_iter_coco_progress_counts_the_chunks(tmp_path, capsys):
    path = tmp_path / 'c.json'
    text = json.dumps(COCO)
    path.write_text(text)
    chunks = -(-len(text) // 64)
    items = list(iter_coco(str(path), ('annotations', ), chunk_chars=64, progress=True))
    assert len(items) == 7
    out = capsys.readouterr().out
    assert f'{chunks}/{chunks}' in out and out.endswith('\n')
