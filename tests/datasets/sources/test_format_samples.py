"""The YOLO, YOLO-OBB, VOC and DOTA-format samples (``tests/data/make_format_samples.py``)
hold the objects of the COCO sample: the same images, classes, names and boxes."""
import pytest

from mmsamrs.datasets.sources import (COCODetectionDataset, DOTADataset, VOCDataset,
                                      YOLODataset, YOLOOBBDataset)

CLASSES = ('ship', 'harbor', 'golffield')


def objects(ds):
    """Image id -> [(class name, bbox)] of a dataset, in file order."""
    return {d['img_id']: [(i['class_name'], i['bbox']) for i in d['instances']] for d in ds}


@pytest.mark.parametrize('folder,build', [
    ('yolo', lambda root: YOLODataset(data_root=root, class_file='classes.txt')),
    ('yolo_obb', lambda root: YOLOOBBDataset(data_root=root, class_file='classes.txt')),
    ('voc', lambda root: VOCDataset(data_root=root, metainfo=dict(classes=CLASSES))),
    ('dota_custom', lambda root: DOTADataset(data_root=root, metainfo=dict(classes=CLASSES))),
])
def test_sample_matches_the_coco_sample(realdata, folder, build):
    coco = COCODetectionDataset(data_root=str(realdata / 'coco'),
                                ann_file='annotations/instances.json')
    ds = build(str(realdata / folder))
    assert ds.metainfo['classes'] == CLASSES
    assert not ds.report.problems
    expected, got = objects(coco), objects(ds)
    assert sorted(got) == sorted(expected) == ['00001', 'P0706']
    for img_id, want in expected.items():
        assert [name for name, _ in got[img_id]] == [name for name, _ in want]
        for (_, box), (_, want_box) in zip(got[img_id], want):
            # COCO boxes are rounded to 0.1 pixel, VOC's to whole pixels
            assert box == pytest.approx(want_box, abs=0.6)
