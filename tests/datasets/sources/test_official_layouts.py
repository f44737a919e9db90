"""The readers find the official DIOR / DIOR-R and FAIR1M 2.0 layouts from data_root alone."""
import pytest

from mmsamrs.datasets.sources import DIORDataset, FAIR1MDataset

HBOX_DIR = 'Annotations/Horizontal Bounding Boxes'
RBOX_DIR = 'Annotations/Oriented Bounding Boxes'
QUAD = (100, 100, 200, 150, 180, 190, 80, 140)


def official_dior(files, root):
    """DIOR as released: trainval and test image folders, both annotation folders, splits."""
    for img_id, split in (('00001', 'trainval'), ('11726', 'test')):
        for ann_dir, boxes in ((HBOX_DIR, {'bndbox': (1, 1, 21, 11)}),
                               (RBOX_DIR, {'robndbox': QUAD})):
            ann = root / ann_dir / f'{img_id}.xml'
            ann.parent.mkdir(parents=True, exist_ok=True)
            ann.write_text(files.voc_xml([('ship', boxes)]))
        files.make_image(root / f'JPEGImages-{split}' / f'{img_id}.jpg', (800, 800))
    (root / 'ImageSets' / 'Main').mkdir(parents=True)
    (root / 'ImageSets' / 'Main' / 'test.txt').write_text('11726\n')


def test_dior_official_layout_per_box_type(files, tmp_path):
    official_dior(files, tmp_path)
    hbox = DIORDataset(data_root=str(tmp_path), box_type='hbox')
    assert [d['img_id'] for d in hbox] == ['00001', '11726']
    assert hbox[0]['img_path'] == str(tmp_path / 'JPEGImages-trainval' / '00001.jpg')
    assert hbox[1]['img_path'] == str(tmp_path / 'JPEGImages-test' / '11726.jpg')
    assert hbox[0]['ann_path'] == str(tmp_path / HBOX_DIR / '00001.xml')
    assert hbox[0]['instances'][0]['bbox'] == [1, 1, 21, 11]
    auto = DIORDataset(data_root=str(tmp_path))  # horizontal first
    assert auto[0]['ann_path'] == str(tmp_path / HBOX_DIR / '00001.xml')
    rbox = DIORDataset(data_root=str(tmp_path), box_type='rbox')
    assert rbox[1]['ann_path'] == str(tmp_path / RBOX_DIR / '11726.xml')
    assert rbox[1]['instances'][0]['qbox'] == list(QUAD)
    test = DIORDataset(data_root=str(tmp_path), ann_file='ImageSets/Main/test.txt')
    assert [d['img_id'] for d in test] == ['11726']


def test_dior_r_only_falls_back_to_oriented_folder(files, tmp_path):
    files.write_dior(tmp_path, '00001', files.voc_xml([('ship', {'robndbox': QUAD})]),
                     ann_dir=RBOX_DIR)
    (info, ) = DIORDataset(data_root=str(tmp_path))
    assert info['instances'][0]['bbox'] == [80, 100, 200, 190]
    with pytest.raises(FileNotFoundError, match='Horizontal Bounding Boxes'):
        DIORDataset(data_root=str(tmp_path), box_type='hbox')


def test_dior_given_prefix_replaces_the_search(files, tmp_path):
    official_dior(files, tmp_path)
    with pytest.raises(FileNotFoundError, match="JPEGImages"):
        DIORDataset(data_root=str(tmp_path), data_prefix=dict(img_path='JPEGImages'))


def test_fair1m_official_train_parts(files, tmp_path):
    quad = [(10, 10), (50, 10), (50, 40), (10, 40)]
    files.write_fair1m(tmp_path / 'part1', '0', files.fair1m_xml([('Small Car', quad)]))
    files.write_fair1m(tmp_path / 'part2', '1', files.fair1m_xml([('Bus', quad)]))
    ds = FAIR1MDataset(data_root=str(tmp_path))
    assert [(d['img_id'], d['instances'][0]['class_name']) for d in ds] == [
        ('0', 'Small-Car'), ('1', 'Bus')]
    assert ds[1]['img_path'] == str(tmp_path / 'part2' / 'images' / '1.tif')


def test_fair1m_id_in_two_parts_is_reported(files, tmp_path):
    quad = [(10, 10), (50, 10), (50, 40), (10, 40)]
    for part in ('part1', 'part2'):
        files.write_fair1m(tmp_path / part, '7', files.fair1m_xml([('Bus', quad)]))
    with pytest.raises(ValueError, match=r"part2/labelXml/7.xml: image id '7' is listed again"):
        FAIR1MDataset(data_root=str(tmp_path))
    ds = FAIR1MDataset(data_root=str(tmp_path), strict=False)
    assert len(ds) == 1 and ds.report.counts['duplicate_id'] == 1
    assert ds[0]['ann_path'] == str(tmp_path / 'part1' / 'labelXml' / '7.xml')
