"""YOLODataset and YOLOOBBDataset on label files written in the Ultralytics format."""
from pathlib import Path

import pytest

from mmsamrs.datasets.class_names import make_palette
from mmsamrs.datasets.sources import AnnotationError, YOLODataset, YOLOOBBDataset


def write_yolo(root: Path, img_id: str, lines, size=(200, 100), names=('car', 'tree'),
               class_file='classes.txt', make_image=None, text=None) -> Path:
    """``labels/<img_id>.txt``, a blank ``images/<img_id>.jpg`` and the class file."""
    label = root / 'labels' / f'{img_id}.txt'
    label.parent.mkdir(parents=True, exist_ok=True)
    label.write_text(text if text is not None else ''.join(line + '\n' for line in lines))
    make_image(root / 'images' / f'{img_id}.jpg', size)
    if class_file:
        (root / class_file).write_text(''.join(n + '\n' for n in names))
    return label


def test_boxes_scaled_to_pixels_and_classes_from_class_file(files, tmp_path):
    write_yolo(tmp_path, 'a', ['0 0.5 0.5 0.2 0.4', '1 0.05 0.1 0.1 0.2', '',
                               '1 0.99 0.5 0.1 0.1'], make_image=files.make_image)
    ds = YOLODataset(data_root=str(tmp_path), class_file='classes.txt')
    assert ds.metainfo['classes'] == ('car', 'tree')
    assert ds.metainfo['palette'] == make_palette(2)
    info = ds[0]
    assert (info['width'], info['height'], info['source']) == (200, 100, 'yolo')
    assert [(i['class_name'], i['bbox_label'], i['bbox']) for i in info['instances']] == [
        ('car', 0, [80.0, 30.0, 120.0, 70.0]), ('tree', 1, [0.0, 0.0, 20.0, 20.0]),
        ('tree', 1, pytest.approx([188.0, 45.0, 200.0, 55.0]))]
    assert ds.report.counts['clipped'] == 1


def test_data_yaml_and_config_classes(files, tmp_path):
    write_yolo(tmp_path, 'a', ['1 0.5 0.5 0.2 0.4', '0 0.5 0.5 0.1 0.1'],
               make_image=files.make_image, class_file='')
    (tmp_path / 'data.yaml').write_text(
        'path: .\ntrain: images\nval: images\nnames:\n  0: small car\n  1: Tree\n')
    ds = YOLODataset(data_root=str(tmp_path), class_file='data.yaml')
    assert ds.metainfo['classes'] == ('small car', 'Tree')
    # the config's classes: the file's names are matched onto them by name or class_map
    ds = YOLODataset(data_root=str(tmp_path), class_file='data.yaml',
                     metainfo=dict(classes=('tree', 'vehicle'), palette=[[1, 2, 3], [4, 5, 6]]),
                     class_map={'small car': 'vehicle'})
    assert ds.metainfo['palette'] == [[1, 2, 3], [4, 5, 6]]
    assert [(i['class_name'], i['bbox_label']) for i in ds[0]['instances']] == [
        ('tree', 0), ('vehicle', 1)]
    # no class file: the indices refer to metainfo['classes']
    ds = YOLODataset(data_root=str(tmp_path), metainfo=dict(classes=('road', 'roof')))
    assert [i['class_name'] for i in ds[0]['instances']] == ['roof', 'road']
    with pytest.raises(ValueError, match=r"no class list; give metainfo=dict\(classes"):
        YOLODataset(data_root=str(tmp_path))


def test_obb_corners(files, tmp_path):
    write_yolo(tmp_path, 'r', ['1 0.1 0.2 0.3 0.2 0.3 0.6 0.1 0.6'],
               make_image=files.make_image)
    ds = YOLOOBBDataset(data_root=str(tmp_path), class_file='classes.txt')
    (inst, ) = ds[0]['instances']
    assert inst['qbox'] == pytest.approx([20, 20, 60, 20, 60, 60, 20, 60])
    assert inst['bbox'] == pytest.approx([20, 20, 60, 60])
    assert inst['rbox'][:4] == pytest.approx([40, 40, 40, 40])
    assert inst['class_name'] == 'tree' and ds[0]['source'] == 'yolo-obb'


# (reader, bad line, problem kind, words)
BAD_LINES = [
    (YOLODataset, '0 0.5 0.5 0.2', 'bad_fields', 'expected 5 fields (cls cx cy w h), got 4'),
    (YOLODataset, '0 0.5 0.5 0.2 0.2 0.9', 'bad_fields', 'got 6'),
    (YOLODataset, '2 0.5 0.5 0.2 0.2', 'unknown_class', "class index '2'"),
    (YOLODataset, 'car 0.5 0.5 0.2 0.2', 'unknown_class', 'expected an integer in 0..1'),
    (YOLODataset, '0 0.5 nan 0.2 0.2', 'bad_number', 'finite'),
    (YOLODataset, '0 0.5 0,5 0.2 0.2', 'bad_number', "'0,5'"),
    (YOLODataset, '0 120 40 30 20', 'far_outside', 'not normalised'),
    (YOLODataset, '0 0.5 0.5 0 0.2', 'zero_area', 'zero'),
    (YOLODataset, '0 1.5 0.5 0.2 0.2', 'outside_image', 'outside'),
    (YOLOOBBDataset, '0 0.1 0.1 0.2 0.1 0.2 0.2', 'bad_fields',
     'expected 9 fields (cls x1 y1 x2 y2 x3 y3 x4 y4), got 7'),
    (YOLOOBBDataset, '0 0.1 0.1 0.2 0.2 0.3 0.3 0.4 0.4', 'zero_area', 'zero'),
]
GOOD = {YOLODataset: '0 0.5 0.5 0.2 0.2', YOLOOBBDataset: '0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2'}


@pytest.mark.parametrize('reader,line,kind,words', BAD_LINES)
def test_bad_line(files, tmp_path, reader, line, kind, words):
    write_yolo(tmp_path, 'bad', [GOOD[reader], line, GOOD[reader]],
               make_image=files.make_image)
    with pytest.raises(AnnotationError) as info:
        reader(data_root=str(tmp_path), class_file='classes.txt')
    err = info.value
    assert (err.kind, err.line) == (kind, 2)
    assert 'bad.txt, line 2: ' in str(err) and words in str(err)
    ds = reader(data_root=str(tmp_path), class_file='classes.txt', strict=False)
    assert len(ds[0]['instances']) == 2
    (problem, ) = ds.report.problems
    assert (problem.kind, problem.line, problem.action) == (kind, 2, 'skipped object')
    assert problem.file.endswith('bad.txt') and words in problem.message


def test_bom_empty_file_and_missing_image(files, tmp_path):
    write_yolo(tmp_path, 'a', [], make_image=files.make_image,
               text='\ufeff0 0.5 0.5 0.2 0.2\n')
    write_yolo(tmp_path, 'empty', [], make_image=files.make_image)
    (tmp_path / 'labels' / 'noimage.txt').write_text('0 0.5 0.5 0.2 0.2\n')
    with pytest.raises(AnnotationError, match=r"noimage\.txt: image 'noimage' not found"):
        YOLODataset(data_root=str(tmp_path), class_file='classes.txt', allow_empty=True)
    ds = YOLODataset(data_root=str(tmp_path), class_file='classes.txt', strict=False)
    assert [(d['img_id'], len(d['instances'])) for d in ds] == [('a', 1), ('empty', 0)]
    assert [p.kind for p in ds.report.problems] == ['empty_file', 'missing_image']


@pytest.mark.parametrize('name,text,words', [
    ('classes.txt', 'car\n\ntree\n', 'classes.txt, line 2: blank line'),
    ('classes.txt', '\n\n', 'no class names'),
    ('data.yaml', 'names: car\n', "expected 'names' as a list"),
    ('data.yaml', 'names:\n  0: car\n  2: tree\n', "expected 'names' as a list"),
    ('data.yaml', 'train: images\n', "expected 'names' as a list"),
])
def test_bad_class_file(files, tmp_path, name, text, words):
    write_yolo(tmp_path, 'a', ['0 0.5 0.5 0.2 0.2'], make_image=files.make_image,
               class_file='')
    (tmp_path / name).write_text(text)
    for strict in (True, False):
        with pytest.raises(ValueError, match=name) as info:
            YOLODataset(data_root=str(tmp_path), class_file=name, strict=strict)
        assert words in str(info.value)


def test_split_folders(files, tmp_path):
    """Ultralytics' layout: images/train and labels/train."""
    (tmp_path / 'classes.txt').write_text('car\n')
    for split in ('train', 'val'):
        (tmp_path / 'labels' / split).mkdir(parents=True)
        (tmp_path / 'labels' / split / f'{split}_0.txt').write_text('0 0.5 0.5 0.2 0.2\n')
        files.make_image(tmp_path / 'images' / split / f'{split}_0.jpg', (64, 64))
    ds = YOLODataset(data_root=str(tmp_path), class_file='classes.txt',
                     data_prefix=dict(img_path='images/train', ann_path='labels/train'))
    assert [d['img_id'] for d in ds] == ['train_0']
    assert ds[0]['instances'][0]['bbox'] == pytest.approx([25.6, 25.6, 38.4, 38.4])
