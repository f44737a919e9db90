"""Hostile and odd input: ids that are paths, repeated ids, absurd coordinates, BOMs."""
import shutil
from pathlib import Path

import pytest
from mmengine.dataset import BaseDataset

from mmsamrs.datasets.sources import (AnnotationError, DIORDataset, DOTADataset,
                                      FAIR1MDataset, HRSCDataset, ISAIDInstanceDataset,
                                      image_search)
from mmsamrs.datasets.sources.source_dataset import FAR_OUTSIDE_SIDES

GOOD = '10 10 30 10 30 20 10 20 plane 0'
BAD_IDS = ['../outside', '../../../outside', '/abs/outside', 'a\\b', 'sub/a', '.hidden', '..']
BOM = '\ufeff'


def write_outside_bait(root: Path, files) -> None:
    """An annotation and image at ``root/../outside``: what ``../outside`` would read."""
    files.write_dota(root.parent, 'outside', [GOOD])
    shutil.copy(root.parent / 'labelTxt' / 'outside.txt', root.parent / 'outside.txt')
    shutil.copy(root.parent / 'images' / 'outside.png', root.parent / 'outside.png')


@pytest.mark.parametrize('bad_id', BAD_IDS)
def test_split_file_id_that_is_a_path_strict(files, tmp_path, bad_id):
    root = tmp_path / 'data'
    files.write_dota(root, 'a', [GOOD])
    write_outside_bait(root, files)
    (root / 'split.txt').write_text(f'a\n{bad_id}\n')
    with pytest.raises(AnnotationError) as info:
        DOTADataset(data_root=str(root), ann_file='split.txt')
    err = info.value
    assert err.kind == 'bad_id' and err.line == 2
    assert str(err).startswith(f'{root / "split.txt"}, line 2: image id {bad_id!r}')
    assert 'not a plain file name' in str(err)


@pytest.mark.parametrize('bad_id', BAD_IDS)
def test_split_file_id_that_is_a_path_lenient(files, tmp_path, bad_id):
    root = tmp_path / 'data'
    files.write_dota(root, 'a', [GOOD])
    write_outside_bait(root, files)
    (root / 'split.txt').write_text(f'{bad_id}\na\n')
    ds = DOTADataset(data_root=str(root), ann_file='split.txt', strict=False)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['a']
    assert len(ds[0]['instances']) == 1
    (problem, ) = ds.report.problems
    assert (problem.kind, problem.line, problem.action) == ('bad_id', 1, 'skipped image')
    assert problem.file == str(root / 'split.txt')
    assert ds.report.counts['skipped_images'] == 1 and ds.report.counts['images'] == 1


@pytest.mark.parametrize('cls', [DOTADataset, DIORDataset, FAIR1MDataset, HRSCDataset,
                                 ISAIDInstanceDataset])
def test_every_reader_rejects_path_ids(tmp_path, cls):
    for key in cls.REQUIRED_PREFIXES:
        (tmp_path / cls.DEFAULT_PREFIX[key]).mkdir(parents=True)
    (tmp_path / 'split.txt').write_text('../../etc/passwd\n')
    with pytest.raises(AnnotationError, match=r"split\.txt, line 1: image id "
                       r"'\.\./\.\./etc/passwd' is not a plain file name"):
        cls(data_root=str(tmp_path), ann_file='split.txt')
    ds = cls(data_root=str(tmp_path), ann_file='split.txt', strict=False)
    assert len(ds) == 0 and ds.report.problems[0].kind == 'bad_id'


def test_hidden_annotation_file_is_a_bad_id(files, dota_root):
    files.write_dota(dota_root, 'a', [GOOD])
    files.write_dota(dota_root, '.hidden', [GOOD])
    with pytest.raises(AnnotationError, match=r"\.hidden\.txt: image id '\.hidden'"):
        DOTADataset(data_root=str(dota_root))
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['a']
    assert ds.report.problems[0].kind == 'bad_id'


@pytest.mark.parametrize('seg_name', ['../../outside', '.hidden'])
def test_hrsc_segmentation_name_that_is_a_path(files, tmp_path, seg_name):
    ann = tmp_path / 'FullDataSet' / 'Annotations'
    ann.mkdir(parents=True)
    for img_id, name in (('1', seg_name), ('2', '2')):
        (ann / f'{img_id}.xml').write_text(
            '<HRSC_Image><Img_SizeWidth>50</Img_SizeWidth><Img_SizeHeight>40'
            f'</Img_SizeHeight><segmented>1</segmented><Img_SegFileName>{name}'
            '</Img_SegFileName><HRSC_Objects/></HRSC_Image>')
        files.make_image(tmp_path / 'FullDataSet' / 'AllImages' / f'{img_id}.bmp', (50, 40))
    files.make_image(tmp_path / 'FullDataSet' / 'Segmentations' / '2.png', (50, 40))
    with pytest.raises(AnnotationError, match=r'1\.xml: segmentation file .* not a plain'):
        HRSCDataset(data_root=str(tmp_path))
    ds = HRSCDataset(data_root=str(tmp_path), strict=False)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['2']
    assert ds[0]['seg_map_path'].endswith('Segmentations/2.png')
    assert ds.report.problems[0].kind == 'bad_id'


def test_repeated_split_file_id_is_read_once(files, dota_root):
    files.write_dota(dota_root, 'a', [GOOD, GOOD])
    files.write_dota(dota_root, 'b', [GOOD])
    (dota_root / 'split.txt').write_text('a\nb\na\n\na\n')
    with pytest.raises(AnnotationError) as info:
        DOTADataset(data_root=str(dota_root), ann_file='split.txt')
    assert info.value.kind == 'duplicate_id' and info.value.line == 3
    assert "line 3: image id 'a' is listed again (first on line 1)" in str(info.value)
    ds = DOTADataset(data_root=str(dota_root), ann_file='split.txt', strict=False)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['a', 'b']
    (problem, ) = ds.report.problems  # reported once, not for each repeat
    assert (problem.kind, problem.line, problem.action) == ('duplicate_id', 3, 'read once')
    counts = ds.report.counts
    assert counts['images'] == 2 and counts['instances'] == 3
    assert counts['annotation_files'] == 2 and counts['skipped_images'] == 0


def test_image_with_two_suffixes_is_read_once(files, dota_root):
    files.write_dota(dota_root, 'a', [GOOD], size=(100, 80))
    files.make_image(dota_root / 'images' / 'a.jpg', (300, 300))
    files.write_dota(dota_root, 'b', [GOOD])
    with pytest.raises(AnnotationError, match=r"a\.txt: image 'a' exists as .*a\.png, "
                       r".*a\.jpg; reading .*a\.png \(set img_suffix"):
        DOTADataset(data_root=str(dota_root))
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    assert len(ds) == 2 and ds[0]['img_path'].endswith('a.png') and ds[0]['width'] == 100
    (problem, ) = ds.report.problems
    assert (problem.kind, problem.action) == ('duplicate_image', 'read the first')
    assert ds.report.counts['images'] == 2
    ds = DOTADataset(data_root=str(dota_root), img_suffix='.jpg', strict=False)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['a']  # b has no .jpg


FAR_LINES = [  # the image is 100 x 80: corners may lie in [-100, 200] x [-100, 180]
    '10 10 1e30 10 1e30 20 10 20 plane 0',
    '10 10 1e308 10 1e308 20 10 20 plane 0',
    '-1e308 -1e308 1e308 -1e308 1e308 1e308 -1e308 1e308 plane 0',
    '10 10 30 10 30 20 10 -1e30 plane 0',
    '10 10 200.5 10 200.5 20 10 20 plane 0',
]


@pytest.mark.parametrize('line', FAR_LINES)
def test_far_outside_corner_strict(files, dota_root, line):
    files.write_dota(dota_root, 'far', [GOOD, line])
    with pytest.raises(AnnotationError) as info:
        DOTADataset(data_root=str(dota_root))
    assert info.value.kind == 'far_outside' and info.value.line == 2
    assert 'far.txt, line 2: box corners' in str(info.value)
    assert 'more than 100 pixels (the longer side) outside the 100x80 image' in str(info.value)


@pytest.mark.parametrize('line', FAR_LINES)
def test_far_outside_corner_lenient(files, dota_root, line):
    files.write_dota(dota_root, 'far', [GOOD, line, GOOD])
    ds = DOTADataset(data_root=str(dota_root), strict=False)
    instances = ds[0]['instances']
    assert len(instances) == 2
    assert all(inst['bbox'] == [10.0, 10.0, 30.0, 20.0] for inst in instances)
    (problem, ) = ds.report.problems
    assert (problem.kind, problem.line, problem.action) == ('far_outside', 2, 'skipped object')


def test_corners_within_the_tolerance_are_clipped(files, dota_root):
    assert FAR_OUTSIDE_SIDES == 1.0
    files.write_dota(dota_root, 'near', ['-100 -100 200 -100 200 180 -100 180 plane 0'])
    ds = DOTADataset(data_root=str(dota_root))
    assert ds[0]['instances'][0]['bbox'] == [0.0, 0.0, 100.0, 80.0]
    assert ds.report.counts['clipped'] == 1 and not ds.report.problems


def test_far_outside_xml_boxes(files, tmp_path):
    box = {'bndbox': (10, 10, 1e30, 50)}
    files.write_dior(tmp_path, '1', files.voc_xml([('airplane', box)]),
                     ann_dir='Annotations/Oriented Bounding Boxes')
    with pytest.raises(AnnotationError, match=r'1\.xml, object 1: box corners'):
        DIORDataset(data_root=str(tmp_path))
    ann = tmp_path / 'FullDataSet' / 'Annotations'
    ann.mkdir(parents=True)
    (ann / '7.xml').write_text(
        '<HRSC_Image><Img_SizeWidth>50</Img_SizeWidth><Img_SizeHeight>40</Img_SizeHeight>'
        '<HRSC_Objects><HRSC_Object><box_xmin>5</box_xmin><box_ymin>5</box_ymin>'
        '<box_xmax>20</box_xmax><box_ymax>20</box_ymax><mbox_cx>12</mbox_cx>'
        '<mbox_cy>12</mbox_cy><mbox_w>1e30</mbox_w><mbox_h>5</mbox_h><mbox_ang>0.3</mbox_ang>'
        '</HRSC_Object></HRSC_Objects></HRSC_Image>')
    files.make_image(tmp_path / 'FullDataSet' / 'AllImages' / '7.bmp', (50, 40))
    ds = HRSCDataset(data_root=str(tmp_path), strict=False)
    assert ds[0]['instances'] == [] and ds.report.problems[0].kind == 'far_outside'


def test_bom_in_dota_and_split_file(files, dota_root):
    lines = ['imagesource:GoogleEarth', 'gsd:0.5', GOOD, GOOD]
    files.write_dota(dota_root, 'plain', lines)
    ann = files.write_dota(dota_root, 'bom', lines)
    ann.write_text(BOM + ann.read_text(), encoding='utf-8')
    (dota_root / 'split.txt').write_text(BOM + 'bom\nplain\n', encoding='utf-8')
    ds = DOTADataset(data_root=str(dota_root), ann_file='split.txt')
    bom, plain = ds[0], ds[1]
    assert bom['img_id'] == 'bom' and not ds.report.problems
    assert bom['instances'] == plain['instances'] and len(bom['instances']) == 2
    assert bom['imagesource'] == 'GoogleEarth' and bom['gsd'] == '0.5'


def test_bom_before_the_first_object_line(files, dota_root):
    ann = files.write_dota(dota_root, 'bom', [GOOD])
    ann.write_bytes(BOM.encode('utf-8') + ann.read_bytes())
    ds = DOTADataset(data_root=str(dota_root))
    assert len(ds[0]['instances']) == 1 and not ds.report.problems


def test_bom_in_xml(files, tmp_path):
    text = files.fair1m_xml([('Boeing 737', [(10, 10), (60, 10), (60, 40), (10, 40)])])
    ann = files.write_fair1m(tmp_path, '1', text)
    ann.write_bytes(BOM.encode('utf-8') + ann.read_bytes())
    ds = FAIR1MDataset(data_root=str(tmp_path))
    assert ds[0]['instances'][0]['class_name'] == 'Boeing737'


def test_real_dota_with_bom_and_path_ids(realdata, tmp_path):
    """The real sample with a BOM and a split file naming it twice and a path: the same
    objects as the original, one image."""
    root = tmp_path / 'dota'
    shutil.copytree(realdata / 'dota', root)
    ann = root / 'labelTxt' / 'P0706.txt'
    ann.write_bytes(BOM.encode('utf-8') + ann.read_bytes())
    (root / 'split.txt').write_text(
        f'{BOM}P0706\n../labelTxt/P0706\nP0706\n', encoding='utf-8')
    original = DOTADataset(data_root=str(realdata / 'dota'), version='1.0')
    ds = DOTADataset(data_root=str(root), ann_file='split.txt', version='1.0', strict=False)
    assert len(ds) == 1 and ds[0]['instances'] == original[0]['instances']
    assert [p.kind for p in ds.report.problems] == ['bad_id', 'duplicate_id']


def test_image_search_names_folders_and_suffixes(tmp_path):
    """The message of a run that read no image says where images were looked for."""
    root = tmp_path / 'dior'
    for sub in ('JPEGImages-trainval', 'JPEGImages-test', 'Annotations/Horizontal Bounding Boxes'):
        (root / sub).mkdir(parents=True)
    (root / 'Annotations/Horizontal Bounding Boxes/1.xml').write_text('<annotation/>')
    ds = DIORDataset(data_root=str(root), img_suffix=('.jpg', '.png'), strict=False,
                     lazy_init=True)
    assert image_search(ds) == (f"'{root / 'JPEGImages-trainval'}' or "
                                f"'{root / 'JPEGImages-test'}' with the suffixes .jpg, .png")
    other = BaseDataset(data_root=str(tmp_path), data_prefix=dict(img_path='imgs'),
                        lazy_init=True)
    assert image_search(other) == repr(str(tmp_path / 'imgs'))
