"""LoadImageOrRecordError: good images load like mmcv's; bad ones are recorded, not raised."""
import numpy as np
import pytest
from PIL import Image

from mmsamrs.datasets.transforms import LoadImageOrRecordError


def sample(path, height=None, width=None):
    """A minimal data_info-like dict with one instance."""
    results = dict(img_path=str(path), instances=[dict(bbox=[0, 0, 2, 2], bbox_label=0)])
    if height is not None:
        results.update(height=height, width=width)
    return results


def test_good_image_loads_bgr(tmp_path):
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    Image.fromarray(rgb).save(tmp_path / 'a.png')
    out = LoadImageOrRecordError()(sample(tmp_path / 'a.png', 4, 6))
    assert 'load_error' not in out
    assert out['img'].shape == (4, 6, 3) and out['img_shape'] == (4, 6)
    assert out['img'][0, 0].tolist() == [0, 0, 200]
    assert len(out['instances']) == 1


@pytest.mark.parametrize('content', [None, b'', b'\x89PNG\r\n\x1a\n garbage'])
def test_missing_or_corrupt_image_is_recorded(tmp_path, content):
    path = tmp_path / 'bad.png'
    if content is not None:
        path.write_bytes(content)
    out = LoadImageOrRecordError()(sample(path, 4, 6))
    assert str(path) in out['load_error']
    assert out['instances'] == [] and out['img'].shape == (1, 1, 3)


def test_size_disagreeing_with_annotation_is_recorded(tmp_path):
    Image.fromarray(np.zeros((4, 6, 3), dtype=np.uint8)).save(tmp_path / 'a.png')
    out = LoadImageOrRecordError()(sample(tmp_path / 'a.png', 8, 6))
    assert '6x4' in out['load_error'] and '6x8' in out['load_error']
    assert out['instances'] == []
