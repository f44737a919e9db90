"""COCODetectionDataset on COCO detection files written in the official format."""
import json
from pathlib import Path

import pytest
from PIL import Image

from mmsamrs.datasets.class_names import make_palette
from mmsamrs.datasets.sources import AnnotationError, COCODetectionDataset
from mmsamrs.registry import DATASETS

CATEGORIES = [dict(id=7, name='tree', supercategory='plant'),
              dict(id=2, name='car', supercategory='vehicle')]


def ann(ann_id, image_id, category_id, bbox, **extra):
    """One COCO annotation entry."""
    return dict(dict(id=ann_id, image_id=image_id, category_id=category_id, bbox=bbox,
                     area=1.0, iscrowd=0), **extra)


def write_coco(root: Path, annotations, images=None, categories=CATEGORIES,
               sizes=((100, 80), (60, 50))) -> Path:
    """``annotations/instances.json`` and blank images ``images/<file_name>`` under root."""
    if images is None:
        images = [dict(id=i + 1, file_name=f'img{i + 1}.png', width=w, height=h)
                  for i, (w, h) in enumerate(sizes)]
    for img, (w, h) in zip(images, sizes):
        if isinstance(img.get('file_name'), str):
            path = root / 'images' / img['file_name']
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new('RGB', (w, h)).save(path)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    path = root / 'annotations' / 'instances.json'
    path.write_text(json.dumps(dict(info={}, licenses=[], images=images,
                                    annotations=annotations, categories=categories)))
    return path


def build(root: Path, **kwargs) -> COCODetectionDataset:
    """The reader on ``root`` in the default layout."""
    return COCODetectionDataset(data_root=str(root), ann_file='annotations/instances.json',
                                **kwargs)


def test_boxes_classes_from_categories_and_crowd(tmp_path):
    polygon = [[10, 10, 30, 10, 30, 40]]
    write_coco(tmp_path, [
        ann(1, 1, 2, [10, 20, 30, 40], segmentation=polygon),
        ann(2, 1, 7, [90, 70, 20, 20]),  # sticks out: clipped
        ann(3, 2, 7, [0, 0, 60, 50], iscrowd=1, segmentation=dict(counts=[0, 3000],
                                                                  size=[50, 60])),
        ann(4, 2, 2, [5.5, 6.5, 10.25, 4]),
    ])
    ds = build(tmp_path)
    # classes: category names ordered by category id; palette generated
    assert ds.metainfo['classes'] == ('car', 'tree')
    assert ds.metainfo['palette'] == make_palette(2)
    first, second = ds[0], ds[1]
    assert (first['img_id'], first['width'], first['height']) == ('img1', 100, 80)
    assert first['img_path'] == str(tmp_path / 'images' / 'img1.png')
    assert [(i['class_name'], i['bbox_label'], i['bbox']) for i in first['instances']] == [
        ('car', 0, [10.0, 20.0, 40.0, 60.0]), ('tree', 1, [90.0, 70.0, 100.0, 80.0])]
    # the crowd box is skipped (counted, no problem), the segmentation ignored
    assert [i['bbox'] for i in second['instances']] == [[5.5, 6.5, 15.75, 10.5]]
    assert ds.report.counts['crowd'] == 1 and ds.report.counts['clipped'] == 1
    assert not ds.report.problems
    kept = build(tmp_path, with_crowd=True)
    assert [i['class_name'] for i in kept[1]['instances']] == ['tree', 'car']


def test_config_classes_and_class_map(tmp_path):
    write_coco(tmp_path, [ann(1, 1, 2, [10, 20, 30, 40]), ann(2, 1, 7, [1, 1, 5, 5])])
    ds = DATASETS.build(dict(
        type='COCODetectionDataset', data_root=str(tmp_path),
        ann_file='annotations/instances.json', metainfo=dict(classes=('plant', 'vehicle')),
        class_map=dict(car='vehicle', tree='plant')))
    assert ds.metainfo['classes'] == ('plant', 'vehicle')
    assert [(i['class_name'], i['bbox_label']) for i in ds[0]['instances']] == [
        ('vehicle', 1), ('plant', 0)]
    with pytest.raises(AnnotationError,
                       match=r"instances\.json, object 2: unknown class name 'tree'"):
        build(tmp_path, metainfo=dict(classes=('car', )))


def test_sub_folders_and_missing_size(tmp_path):
    images = [dict(id=5, file_name='a/x.png'), dict(id=6, file_name='b/x.png')]
    write_coco(tmp_path, [ann(1, 5, 2, [1, 1, 4, 4]), ann(2, 6, 2, [1, 1, 4, 4])], images)
    with pytest.raises(AnnotationError, match=r"duplicate_id|image id 'x' of 'a/x.png'"):
        build(tmp_path)
    ds = build(tmp_path, strict=False)
    assert len(ds) == 1 and ds[0]['img_path'].endswith('a/x.png')
    assert (ds[0]['width'], ds[0]['height']) == (100, 80)  # from the image header
    assert [p.kind for p in ds.report.problems] == ['duplicate_id']


# (annotation or image change, problem kind, object id in the message, words)
BAD_ANNOTATIONS = [
    (ann(3, 1, 2, [1, 2, 3]), 'bad_fields', 3, 'expected [x, y, width, height]'),
    (ann(3, 1, 2, [1, 2, 'x', 4]), 'bad_number', 3, "'x'"),
    (ann(3, 1, 2, [1, 2, float('nan'), 4]), 'bad_number', 3, 'finite'),
    (ann(3, 1, 2, [10, 10, 0, 5]), 'zero_area', 3, 'zero'),
    (ann(3, 1, 2, [1e30, 10, 5, 5]), 'far_outside', 3, 'outside'),
    (ann(3, 1, 2, [150, 10, 5, 5]), 'outside_image', 3, 'outside'),
    (ann(3, 1, 99, [1, 2, 3, 4]), 'unknown_class', 3, 'category_id 99'),
    (ann(3, 42, 2, [1, 2, 3, 4]), 'bad_fields', 3, 'image_id 42'),
    (dict(id=3, image_id=1, bbox=[1, 2, 3, 4]), 'bad_fields', 3, "['category_id']"),
    (ann(3, [1], 2, [1, 2, 3, 4]), 'bad_fields', 3, "not an integer: ['image_id']"),
]


@pytest.mark.parametrize('bad,kind,obj,words', BAD_ANNOTATIONS)
def test_bad_annotation(tmp_path, bad, kind, obj, words):
    write_coco(tmp_path, [ann(1, 1, 2, [1, 1, 4, 4]), bad, ann(2, 1, 7, [5, 5, 4, 4])])
    with pytest.raises(AnnotationError) as info:
        build(tmp_path)
    err = info.value
    assert (err.kind, err.obj) == (kind, obj)
    assert f'instances.json, object {obj}: ' in str(err) and words in str(err)
    ds = build(tmp_path, strict=False)
    assert [i['bbox'] for i in ds[0]['instances']] == [[1, 1, 5, 5], [5, 5, 9, 9]]
    (problem, ) = ds.report.problems
    assert (problem.kind, problem.object, problem.action) == (kind, obj, 'skipped object')
    assert problem.file.endswith('instances.json') and words in problem.message


@pytest.mark.parametrize('image,kind', [
    (dict(id=2, file_name='../etc/x.png'), 'bad_id'),
    (dict(id=2, file_name='.hidden.png'), 'bad_id'),
    (dict(id=2, file_name='gone.png'), 'missing_image'),
    (dict(id=1, file_name='again.png'), 'duplicate_id'),
    (dict(file_name='noid.png'), 'bad_fields'),
    (dict(id=[2], file_name='listid.png'), 'bad_fields'),
])
def test_bad_image_entry(tmp_path, image, kind):
    images = [dict(id=1, file_name='img1.png', width=100, height=80), image]
    write_coco(tmp_path, [ann(1, 1, 2, [1, 1, 4, 4])], images, sizes=[(100, 80)])
    with pytest.raises(AnnotationError) as info:
        build(tmp_path)
    assert info.value.kind == kind and 'instances.json' in str(info.value)
    ds = build(tmp_path, strict=False)
    assert [d['img_id'] for d in ds] == ['img1']
    assert [(p.kind, p.action) for p in ds.report.problems] == [(kind, 'skipped image')]


@pytest.mark.parametrize('text,words', [
    ('{"images": [], "annotations": [', 'line 1, column'),
    ('[1, 2]', 'missing or not a list'),
    (json.dumps(dict(images=[], annotations=[], categories=[dict(id=1, name='a'),
                                                             dict(id=2, name='a')])),
     'names must be distinct'),
    (json.dumps(dict(images=[], annotations=[], categories=[dict(id=1)])),
     'needs an integer "id" and a "name"'),
])
def test_not_a_coco_file(tmp_path, text, words):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations' / 'instances.json').write_text(text)
    for strict in (True, False):
        with pytest.raises(ValueError, match='instances.json') as info:
            build(tmp_path, strict=strict)
        assert words in str(info.value)


def test_layout_errors(tmp_path):
    with pytest.raises(ValueError, match='give ann_file, the COCO JSON file'):
        COCODetectionDataset(data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='instances.json'):
        build(tmp_path)


def test_real_sample(realdata):
    """The tiny COCO sample (tests/data/coco, made from the DOTA and DIOR samples)."""
    ds = build(realdata / 'coco')
    assert ds.metainfo['classes'] == ('ship', 'harbor', 'golffield')
    by_id = {d['img_id']: d for d in ds}
    names = [i['class_name'] for i in by_id['P0706']['instances']]
    assert names.count('ship') == 20 and names.count('harbor') == 1
    (golf, ) = by_id['00001']['instances']
    assert golf['class_name'] == 'golffield' and golf['bbox'] == [33.2, 59.2, 171.0, 168.0]
    assert ds.report.counts['crowd'] == 1 and not ds.report.problems
