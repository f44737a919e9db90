"""DOTADataset on the real DOTA sample P0706 and on small written files."""
from collections import Counter

import numpy as np
import pytest

from mmsamrs.datasets import SOTA_CLASSES
from mmsamrs.datasets.sources import AnnotationError, DOTADataset
from mmsamrs.registry import DATASETS
from mmsamrs.structures.boxes import quad_to_rbox, rbox_to_quad


@pytest.fixture(scope='module')
def p0706(realdata):
    """The real P0706 sample read with default options."""
    return DOTADataset(data_root=str(realdata / 'dota'), pipeline=[], test_mode=True)


def test_real_p0706_counts_and_meta(p0706):
    assert len(p0706) == 1
    info = p0706[0]
    assert info['img_id'] == 'P0706' and info['source'] == 'dota'
    assert info['img_path'].endswith('images/P0706.png')
    assert (info['width'], info['height']) == (1111, 1182)  # from the PNG header
    insts = info['instances']
    assert len(insts) == 536  # 538 lines minus the imagesource/gsd header lines
    assert Counter(i['class_name'] for i in insts) == {'ship': 531, 'harbor': 5}
    assert Counter(i['difficult'] for i in insts if i['class_name'] == 'ship') == {0: 525, 1: 6}
    labels = {i['class_name']: i['bbox_label'] for i in insts}
    assert labels == {'ship': SOTA_CLASSES.index('ship'), 'harbor': SOTA_CLASSES.index('harbor')}
    assert labels == {'ship': 5, 'harbor': 14}
    assert all(i['ignore_flag'] == 0 for i in insts)
    meta = p0706.metainfo
    assert meta['classes'] == SOTA_CLASSES and meta['source'] == 'dota'
    assert len(meta['palette']) == 18
    assert p0706.report.counts['instances'] == 536 and not p0706.report.problems


def test_real_p0706_first_objects(p0706):
    first, second = p0706[0]['instances'][:2]
    # line 3: "1054 1028 1063 1011 1111 1040 1112 1062 ship 1"
    assert first['qbox'] == [1054, 1028, 1063, 1011, 1111, 1040, 1112, 1062]
    assert first['bbox'] == [1054, 1011, 1111, 1062]  # x2 1112 clipped to width 1111
    assert first['difficult'] == 1 and first['class_name'] == 'ship'
    # line 4: "807 331 800 324 817 309 823 316 ship 0"
    assert second['qbox'] == [807, 331, 800, 324, 817, 309, 823, 316]
    assert second['bbox'] == [800, 309, 823, 331] and second['difficult'] == 0
    assert p0706.report.counts['clipped'] == 1  # only the first box sticks out
    rbox = np.array(second['rbox'])
    np.testing.assert_allclose(rbox, quad_to_rbox(np.array(second['qbox']))[0])
    np.testing.assert_allclose(rbox[:2], [811.5, 320.0], atol=0.6)  # centre of the quad
    assert -np.pi <= rbox[4] <= np.pi  # radians, not degrees
    corners = rbox_to_quad(rbox[None])[0].reshape(4, 2)
    assert np.abs(corners - np.array(second['qbox']).reshape(4, 2)).min(axis=0).max() < 3


def test_build_from_config_and_serialization(realdata):
    cfg = dict(type='DOTADataset', data_root=str(realdata / 'dota'), version='1.0')
    ds = DATASETS.build(cfg)
    assert isinstance(ds, DOTADataset) and ds.serialize_data
    assert ds.get_cat_ids(0).count(14) == 5
    plain = DOTADataset(data_root=str(realdata / 'dota'), serialize_data=False)
    assert ds[0]['instances'] == plain[0]['instances']


def test_optional_difficult_headers_and_spellings(files, dota_root):
    files.write_dota(dota_root, 'a', [
        'imagesource:GoogleEarth', 'gsd:0.5', '',
        '10 10 30 10 30 20 10 20 Small_Vehicle',
        '40 40 60 40 60 60 40 60 SMALL-VEHICLE 1',
        '1 1 9 1 9 9 1 9 storage-tank 0',
    ])
    ds = DOTADataset(data_root=str(dota_root))
    insts = ds[0]['instances']
    assert [i['class_name'] for i in insts] == ['small-vehicle', 'small-vehicle', 'storage-tank']
    assert [i['bbox_label'] for i in insts] == [9, 9, 13]
    assert [i['difficult'] for i in insts] == [0, 1, 0]
    assert insts[0]['bbox'] == [10, 10, 30, 20]
    info = ds.get_data_info(0)
    assert (info['imagesource'], info['gsd']) == ('GoogleEarth', '0.5')


@pytest.mark.parametrize('version,ok', [('1.0', False), ('1.5', False), ('2.0', True),
                                        (1.0, False), (2.0, True)])
def test_version_restricts_classes(files, dota_root, version, ok):
    files.write_dota(dota_root, 'v', ['10 10 30 10 30 20 10 20 plane 0',
                                '10 10 30 10 30 20 10 20 helipad 0'])
    if ok:
        ds = DOTADataset(data_root=str(dota_root), version=version)
        assert [i['bbox_label'] for i in ds[0]['instances']] == [4, 17]
    else:
        with pytest.raises(AnnotationError, match=r'v\.txt, line 2: .*helipad'):
            DOTADataset(data_root=str(dota_root), version=version)


def test_container_crane_needs_v15(files, dota_root):
    files.write_dota(dota_root, 'c', ['10 10 30 10 30 20 10 20 container-crane 0'])
    ds = DOTADataset(data_root=str(dota_root), version='1.5')
    assert ds[0]['instances'][0]['bbox_label'] == SOTA_CLASSES.index('container-crane')
    ds = DOTADataset(data_root=str(dota_root), version='1.0', strict=False)
    assert ds[0]['instances'] == [] and ds.report.problems[0].kind == 'unknown_class'


def test_bad_version():
    with pytest.raises(ValueError, match='version'):
        DOTADataset(version='3.0', lazy_init=True)


def test_clipping_keeps_quad(files, dota_root):
    files.write_dota(dota_root, 'clip', ['-5 70 20 70 20 90 -5 90 plane 0'], size=(100, 80))
    ds = DOTADataset(data_root=str(dota_root))
    inst = ds[0]['instances'][0]
    assert inst['bbox'] == [0, 70, 20, 80]
    assert inst['qbox'] == [-5, 70, 20, 70, 20, 90, -5, 90]  # as given
    assert ds.report.counts['clipped'] == 1


def test_filter_empty_gt(files, dota_root):
    files.write_dota(dota_root, 'full', ['10 10 30 10 30 20 10 20 plane 0'])
    files.write_dota(dota_root, 'none', ['imagesource:GoogleEarth', 'gsd:0.5'])
    assert len(DOTADataset(data_root=str(dota_root))) == 2
    ds = DOTADataset(data_root=str(dota_root), filter_cfg=dict(filter_empty_gt=True))
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['full']
    ds = DOTADataset(data_root=str(dota_root), test_mode=True,
                     filter_cfg=dict(filter_empty_gt=True))
    assert len(ds) == 2
