"""ISAIDInstanceDataset on iSAID-format files: boxes from masks, class from colours."""
import numpy as np
import pytest

from mmsamrs.datasets.sources import AnnotationError, ISAIDInstanceDataset, code_crops
from mmsamrs.datasets.sources.isaid import mask_boxes
from mmsamrs.datasets.transforms import LoadInstanceMasks
from mmsamrs.testing.prompt_study_data import PLANE, write_isaid


@pytest.fixture
def isaid_root(tmp_path):
    masks = write_isaid(tmp_path)
    return tmp_path, masks


def test_instances_from_masks(isaid_root):
    root, masks = isaid_root
    ds = ISAIDInstanceDataset(data_root=str(root), strict=False)
    assert [ds[i]['img_id'] for i in range(len(ds))] == ['P0001', 'P0002']
    info = ds[0]
    assert (info['width'], info['height']) == (160, 128) and info['source'] == 'isaid'
    assert info['seg_map_path'] == str(
        root / 'Instance_masks' / 'images' / 'P0001_instance_id_RGB.png')
    assert [(i['instance_id'], i['class_name']) for i in info['instances']] == \
        [(1, 'ship'), (300, 'plane'), (70000, 'Small_Vehicle')]
    assert [i['bbox_label'] for i in info['instances']] == [0, 13, 8]
    for instance in info['instances']:
        ys, xs = np.nonzero(masks['P0001'][instance['instance_id']])
        assert instance['bbox'] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        # the rotated box is close to the drawn one: same area within the pixel border
        rbox = np.array(instance['rbox'])
        assert rbox[2] * rbox[3] == pytest.approx(masks['P0001'][instance['instance_id']].sum(),
                                                  rel=0.25)
    # instance 5 has a colour of no class: reported and skipped
    (problem, ) = ds.report.problems
    assert problem.kind == 'unknown_class' and 'instance id 5' in problem.message
    assert '[9, 9, 9]' in problem.message
    with pytest.raises(AnnotationError, match='instance id 5'):
        ISAIDInstanceDataset(data_root=str(root))


def test_ground_truth_masks_through_load_instance_masks(isaid_root):
    root, masks = isaid_root
    info = ISAIDInstanceDataset(data_root=str(root), strict=False)[1]
    results = LoadInstanceMasks()(dict(info, img_shape=(120, 144)))
    (crop, ), ((x0, y0), ) = results['gt_mask_crops'], results['gt_mask_offsets']
    full = np.zeros((120, 144), dtype=bool)
    full[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    np.testing.assert_array_equal(full, masks['P0002'][2])


def test_axis_aligned_mask_gives_its_hbox_as_rotated_box():
    crop = np.ones((6, 10), dtype=bool)
    hbox, quad = mask_boxes(crop, (20, 30))
    assert hbox == [20., 30., 30., 36.]
    corners = {(round(x, 3), round(y, 3)) for x, y in np.reshape(quad, (4, 2))}
    assert corners == {(20., 30.), (30., 30.), (30., 36.), (20., 36.)}


def test_code_crops():
    codes = np.array([[0, 7, 7], [3, 7, 0]])
    crops, offsets = code_crops(codes, [7, 3, 4, None])
    assert [c.tolist() for c in crops] == [[[True, True], [True, False]], [[True]], [], []]
    assert offsets.tolist() == [[1, 0], [0, 1], [0, 0], [0, 0]]


def test_own_classes_and_missing_semantic_png(tmp_path):
    images = {'x': (60, 50, [(4, PLANE, (30., 25., 20., 10., 0.))])}
    write_isaid(tmp_path, images)
    ds = ISAIDInstanceDataset(data_root=str(tmp_path),
                              metainfo=dict(classes=('aircraft', ), palette=[PLANE]))
    assert ds[0]['instances'][0]['class_name'] == 'aircraft'
    (tmp_path / 'Semantic_masks' / 'images' / 'x_instance_color_RGB.png').unlink()
    with pytest.raises(AnnotationError, match='no semantic PNG'):
        ISAIDInstanceDataset(data_root=str(tmp_path))


def test_layout_is_checked(tmp_path):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'Instance_masks' / 'images').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"data_prefix\['sem_path'\]"):
        ISAIDInstanceDataset(data_root=str(tmp_path))

