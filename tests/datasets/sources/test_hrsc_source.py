"""HRSCDataset on the real HRSC2016 XML and on a generated segmentation image."""
import shutil

import numpy as np
import pytest
from PIL import Image

from mmsamrs.datasets.sources import AnnotationError, HRSCDataset, load_hrsc_instance_masks
from mmsamrs.structures.boxes import rbox_to_quad

REAL_ID = '100000006'


@pytest.fixture
def hrsc_root(tmp_path, realdata, files):
    """FullDataSet/ with the real XML and a blank image of its size (1172x816)."""
    ann_dir = tmp_path / 'FullDataSet' / 'Annotations'
    ann_dir.mkdir(parents=True)
    shutil.copy(realdata / 'hrsc' / 'Annotations' / f'{REAL_ID}.xml', ann_dir)
    files.make_image(tmp_path / 'FullDataSet' / 'AllImages' / f'{REAL_ID}.bmp', (1172, 816))
    return tmp_path


def test_real_hrsc_xml(hrsc_root):
    ds = HRSCDataset(data_root=str(hrsc_root))
    info = ds[0]
    assert info['img_id'] == REAL_ID and info['img_path'].endswith(f'{REAL_ID}.bmp')
    assert (info['width'], info['height']) == (1172, 816) and info['source'] == 'hrsc'
    assert 'seg_map_path' not in info  # <segmented>0
    (inst, ) = info['instances']
    assert inst['bbox'] == [119, 75, 587, 789]
    assert inst['rbox'] == [341.2143, 443.3325, 778.4297, 178.2595, -1.122944]
    np.testing.assert_allclose(inst['qbox'], rbox_to_quad(np.array(inst['rbox']))[0])
    # the angle is radians: the w side (corner 3 -> 2) points along (cos a, sin a)
    quad = np.array(inst['qbox']).reshape(4, 2)
    side = quad[1] - quad[2]
    assert np.hypot(*side) == pytest.approx(778.4297, rel=1e-5)
    assert np.arctan2(side[1], side[0]) == pytest.approx(-1.122944, abs=1e-5)
    assert inst['bbox_label'] == 0 and inst['class_name'] == 'ship'
    assert inst['seg_color'] is None and inst['difficult'] == 0
    assert ds.metainfo['classes'] == ('ship', )


def _segmented_xml(realdata, colors):
    """The real XML turned into a segmented image with one object per colour."""
    text = (realdata / 'hrsc' / 'Annotations' / f'{REAL_ID}.xml').read_text()
    text = text.replace('<segmented>0</segmented>\n  <Img_Havemask>',
                        '<segmented>1</segmented>\n  <Img_Havemask>')
    start, end = text.index('<HRSC_Object>'), text.index('</HRSC_Object>') + 14
    obj = text[start:end]
    objs = [obj.replace('<seg_color>\n      </seg_color>', f'<seg_color>{c}</seg_color>')
            for c in colors]
    return text[:start] + ''.join(objs) + text[end:]


@pytest.fixture
def segmented_root(hrsc_root, realdata, files):
    """One segmented image (two ships, one colour each) and the real, unsegmented one."""
    full = hrsc_root / 'FullDataSet'
    (full / 'Annotations' / 'seg1.xml').write_text(
        _segmented_xml(realdata, ['255,0,0', '0, 128 ,255']))
    files.make_image(full / 'AllImages' / 'seg1.bmp', (1172, 816))
    seg = np.zeros((816, 1172, 3), dtype=np.uint8)
    seg[100:200, 50:300] = (255, 0, 0)
    seg[400:420, 600:900] = (0, 128, 255)
    seg[500:510, 10:20] = (255, 0, 1)  # a colour of no instance
    (full / 'Segmentations').mkdir()
    Image.fromarray(seg).save(full / 'Segmentations' / 'seg1.png')
    return hrsc_root


def test_instance_masks_from_seg_color(segmented_root):
    ds = HRSCDataset(data_root=str(segmented_root))
    info = next(ds[i] for i in range(len(ds)) if ds[i]['img_id'] == 'seg1')
    assert info['seg_map_path'].endswith('FullDataSet/Segmentations/seg1.png')
    colors = [i['seg_color'] for i in info['instances']]
    assert colors == [(255, 0, 0), (0, 128, 255)]
    masks = load_hrsc_instance_masks(info['seg_map_path'], colors + [None])
    assert masks.shape == (3, 816, 1172) and masks.dtype == bool
    assert masks[0].sum() == 100 * 250 and masks[0][100:200, 50:300].all()
    assert masks[1].sum() == 20 * 300 and masks[1][400:420, 600:900].all()
    assert not masks[2].any()


def test_masks_only(segmented_root):
    ds = HRSCDataset(data_root=str(segmented_root), masks_only=True)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['seg1']
    assert ds.report.counts['filtered_images'] == 1


def test_masks_only_needs_the_segmentation_folder(hrsc_root):
    with pytest.raises(FileNotFoundError, match=r"data_prefix\['seg_path'\].*Segmentations"):
        HRSCDataset(data_root=str(hrsc_root), masks_only=True)


def test_missing_segmentation_image(segmented_root):
    (segmented_root / 'FullDataSet' / 'Segmentations' / 'seg1.png').unlink()
    with pytest.raises(AnnotationError, match=r'seg1\.xml: .*segmented.*seg1\.png'):
        HRSCDataset(data_root=str(segmented_root))
    ds = HRSCDataset(data_root=str(segmented_root), strict=False)
    assert len(ds) == 2 and all('seg_map_path' not in ds[i] for i in range(2))
    assert ds.report.problems[0].kind == 'missing_mask'
    assert ds.report.problems[0].action == 'kept image without mask'


def test_bad_seg_color_and_bad_angle(hrsc_root, realdata):
    text = _segmented_xml(realdata, ['255,0', '1,2,3', '4,5,6'])
    head, tail = text.rsplit('<mbox_ang>-1.122944</mbox_ang>', 1)
    text = head + '<mbox_ang>inf</mbox_ang>' + tail  # the third object
    (hrsc_root / 'FullDataSet' / 'Annotations' / f'{REAL_ID}.xml').write_text(
        text.replace('<segmented>1</segmented>', '<segmented>0</segmented>', 1))
    with pytest.raises(AnnotationError, match=r'object 1: <seg_color>: expected "r,g,b"'):
        HRSCDataset(data_root=str(hrsc_root))
    ds = HRSCDataset(data_root=str(hrsc_root), strict=False)
    problems = ds.report.problems
    assert [(p.kind, p.object) for p in problems] == [('bad_number', 1), ('bad_number', 3)]
    assert '<mbox_ang>: expected a finite number' in problems[1].message
    assert [i['seg_color'] for i in ds[0]['instances']] == [(1, 2, 3)]
