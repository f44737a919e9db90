"""Bad input in both ``strict`` modes, layout verification and the report."""
import json

import pytest

from mmsamrs.datasets.sources import (AnnotationError, DIORDataset, DOTADataset,
                                      FAIR1MDataset, HRSCDataset, SourceReport)

GOOD = '10 10 30 10 30 20 10 20 plane 0'

# (bad object line, problem kind, words the message must contain)
BAD_LINES = [
    ('10 10 30 10 30 20 10 20 spaceship 0', 'unknown_class', "'spaceship'"),
    ('10 10 30 10 30 20 10 20', 'bad_fields', 'got 8'),
    ('10 10 30 10 30 20 10 20 plane 0 extra', 'bad_fields', 'got 11'),
    ('10 nan 30 10 30 20 10 20 plane 0', 'bad_number', 'finite'),
    ('10 10 inf 10 30 20 10 20 plane 0', 'bad_number', 'finite'),
    ('10 10 3O 10 30 20 10 20 plane 0', 'bad_number', "'3O'"),
    ('10 10 30 10 30 20 10 20 plane x', 'bad_number', 'difficult'),
    ('10 10 10 10 10 10 10 10 plane 0', 'zero_area', 'zero'),
    ('10 10 20 20 30 30 40 40 plane 0', 'zero_area', 'zero'),  # collinear corners
    ('150 10 170 10 170 20 150 20 plane 0', 'outside_image', 'outside'),
    ('-30 -30 -10 -30 -10 -10 -30 -10 plane 0', 'outside_image', 'outside'),
]


@pytest.mark.parametrize('line,kind,words', BAD_LINES)
def test_bad_dota_line_strict(files, dota_root, line, kind, words):
    files.write_dota(dota_root, 'P_bad', ['imagesource:x', GOOD, line, GOOD])
    with pytest.raises(AnnotationError) as info:
        DOTADataset(data_root=str(dota_root))
    err = info.value
    assert err.kind == kind and err.line == 3
    assert 'P_bad.txt, line 3: ' in str(err) and words in str(err)


@pytest.mark.parametrize('line,kind,words', BAD_LINES)
def test_bad_dota_line_lenient(files, dota_root, line, kind, words):
    files.write_dota(dota_root, 'P_bad', ['imagesource:x', GOOD, line, GOOD])
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    assert len(ds[0]['instances']) == 2  # only the bad object is skipped
    (problem, ) = ds.report.problems
    assert (problem.kind, problem.line, problem.action) == (kind, 3, 'skipped object')
    assert problem.file.endswith('P_bad.txt') and words in problem.message
    assert ds.report.counts['skipped_objects'] == 1 and ds.report.counts[kind] == 1


def test_missing_image(files, dota_root):
    files.write_dota(dota_root, 'a', [GOOD])
    files.write_dota(dota_root, 'b', [GOOD], image=False)
    with pytest.raises(AnnotationError, match=r"b\.txt: image 'b' not found in .*images"):
        DOTADataset(data_root=str(dota_root))
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['a']
    assert ds.report.problems[0].kind == 'missing_image'
    assert ds.report.counts['skipped_images'] == 1


def test_unreadable_image(files, dota_root):
    files.write_dota(dota_root, 'a', [GOOD])
    (dota_root / 'images' / 'a.png').write_bytes(b'not a png')
    with pytest.raises(AnnotationError, match='cannot read the size'):
        DOTADataset(data_root=str(dota_root))
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    assert len(ds) == 0 and ds.report.problems[0].kind == 'bad_image'


def test_empty_annotation_file(files, dota_root):
    files.write_dota(dota_root, 'e', [])
    with pytest.raises(AnnotationError, match=r'e\.txt: annotation file is empty'):
        DOTADataset(data_root=str(dota_root))
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    assert len(ds) == 1 and ds[0]['instances'] == []
    assert ds[0]['width'] == 100 and ds[0]['height'] == 80
    assert ds.report.problems[0].kind == 'empty_file'
    assert ds.report.problems[0].action == 'kept image without objects'
    ds = DOTADataset(data_root=str(dota_root), allow_empty=True)
    assert len(ds) == 1 and not ds.report.problems and ds.report.counts['empty_files'] == 1


def test_header_only_file_is_an_image_without_objects(files, dota_root):
    files.write_dota(dota_root, 'h', ['imagesource:GoogleEarth', 'gsd:0.1'])
    ds = DOTADataset(data_root=str(dota_root))
    assert ds[0]['instances'] == [] and not ds.report.problems


XML_READERS = [
    (DIORDataset, 'Annotations/Oriented Bounding Boxes', 'JPEGImages', '.jpg', {}),
    (FAIR1MDataset, 'labelXml', 'images', '.tif', {}),
    (HRSCDataset, 'FullDataSet/Annotations', 'FullDataSet/AllImages', '.bmp', {}),
]


@pytest.mark.parametrize('cls,ann_dir,img_dir,suffix,kw', XML_READERS)
@pytest.mark.parametrize('text,words', [
    ('<annotation><object><name>x</name>', 'broken XML'),
    ('<wrong_root/>', 'expected root element'),
])
def test_broken_xml(files, tmp_path, cls, ann_dir, img_dir, suffix, kw, text, words):
    (tmp_path / ann_dir).mkdir(parents=True)
    (tmp_path / ann_dir / 'x1.xml').write_text(text)
    files.make_image(tmp_path / img_dir / f'x1{suffix}', (50, 40))
    with pytest.raises(AnnotationError, match=words) as info:
        cls(data_root=str(tmp_path), **kw)
    assert info.value.kind == 'broken_xml' and 'x1.xml' in str(info.value)
    ds = cls(data_root=str(tmp_path), strict=False, **kw)
    assert len(ds) == 0 and ds.report.problems[0].kind == 'broken_xml'
    assert ds.report.counts['skipped_images'] == 1


def test_broken_xml_names_the_line(tmp_path, files):
    files.write_fair1m(tmp_path, '7', '<annotation>\n<size>\n</annotation>\n')
    with pytest.raises(AnnotationError, match=r'7\.xml, line 3: broken XML'):
        FAIR1MDataset(data_root=str(tmp_path))


@pytest.mark.parametrize('cls,ann_dir,img_dir,suffix,kw', XML_READERS)
def test_empty_xml_file(files, tmp_path, cls, ann_dir, img_dir, suffix, kw):
    (tmp_path / ann_dir).mkdir(parents=True)
    (tmp_path / ann_dir / 'e.xml').write_text('  \n')
    files.make_image(tmp_path / img_dir / f'e{suffix}', (50, 40))
    with pytest.raises(AnnotationError, match='empty'):
        cls(data_root=str(tmp_path), **kw)
    ds = cls(data_root=str(tmp_path), strict=False, **kw)
    assert ds[0]['instances'] == [] and (ds[0]['width'], ds[0]['height']) == (50, 40)


def test_missing_directories_message(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        DOTADataset(data_root=str(tmp_path / 'nowhere'))
    text = str(info.value)
    assert "data_prefix['img_path']" in text and "data_prefix['ann_path']" in text
    assert str(tmp_path / 'nowhere' / 'images') in text
    assert str(tmp_path / 'nowhere' / 'labelTxt') in text


def test_missing_split_file_and_no_annotations(tmp_path, dota_root):
    with pytest.raises(FileNotFoundError, match='split file'):
        DOTADataset(data_root=str(dota_root), ann_file='trainval.txt')
    with pytest.raises(FileNotFoundError, match=r'no \*\.txt annotation files'):
        DOTADataset(data_root=str(dota_root))


def test_split_file_with_missing_annotation(files, dota_root):
    files.write_dota(dota_root, 'a', [GOOD])
    (dota_root / 'split.txt').write_text('a\nghost\n')
    with pytest.raises(AnnotationError, match=r"ghost\.txt: no annotation file for .*'ghost'"):
        DOTADataset(data_root=str(dota_root), ann_file='split.txt')
    ds = DOTADataset(data_root=str(dota_root), ann_file='split.txt', strict=False)
    assert len(ds) == 1 and ds.report.problems[0].kind == 'missing_annotation'


def test_report_api(files, dota_root, tmp_path):
    files.write_dota(dota_root, 'a', [GOOD, '10 10 30 10 30 20 10 20 ufo 0',
                                      '-5 10 30 10 30 20 -5 20 plane 0'])
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    report = ds.report
    assert isinstance(report, SourceReport)
    data = report.to_dict()
    assert data['source'] == 'dota'
    assert data['counts']['images'] == 1 and data['counts']['instances'] == 2
    assert data['counts']['clipped'] == 1 and data['counts']['unknown_class'] == 1
    assert data['problems'][0]['line'] == 2 and data['problems'][0]['kind'] == 'unknown_class'
    report.dump(str(tmp_path / 'report.json'))
    assert json.loads((tmp_path / 'report.json').read_text()) == data
    summary = report.summary()
    assert 'dota: 1 images, 2 instances' in summary and 'unknown_class: 1' in summary
    assert '1 boxes clipped' in summary
