"""PackSAMInputs: uint8 CHW image + a BaseDataElement with prompts and instances."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmsamrs.datasets.transforms import PackSAMInputs, SAMPrompts
from mmsamrs.registry import TRANSFORMS


def results(num=3, rbox=True, **extra):
    """A pipeline state after loading an image and making SAM prompts."""
    rng = np.random.default_rng(0)
    instances = [
        dict(bbox=[10. + i, 20., 60., 90. + i], bbox_label=i % 2, class_name='c')
        for i in range(num)
    ]
    if rbox:
        for inst in instances:
            inst['rbox'] = [35., 55., 50., 70., 0.1]
    state = dict(img=rng.integers(0, 256, (120, 200, 3), dtype=np.uint8), img_shape=(120, 200),
                 ori_shape=(120, 200), img_path='/data/a.png', img_id='a',
                 instances=instances, **extra)
    return SAMPrompts(prompts='CP+RH-Box+H-Box-M' if rbox else 'H-Box').transform(state)


def test_packs_image_prompts_and_instances():
    state = results()
    packed = TRANSFORMS.build(dict(type='PackSAMInputs'))(state)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 120, 200)
    assert np.array_equal(inputs.permute(1, 2, 0).numpy(), state['img'])
    assert isinstance(sample, BaseDataElement)
    assert sample.metainfo == dict(img_id='a', img_path='/data/a.png', ori_shape=(120, 200),
                                   sam_input_shape=(614, 1024))
    for key, shape, dtype in [('prompt_points', (3, 1, 2), torch.float32),
                              ('prompt_point_labels', (3, 1), torch.int64),
                              ('prompt_boxes', (3, 4), torch.float32),
                              ('prompt_masks', (3, 1, 256, 256), torch.float32),
                              ('labels', (3, ), torch.int64), ('hboxes', (3, 4), torch.float32),
                              ('rboxes', (3, 5), torch.float32),
                              ('instance_ids', (3, ), torch.int64)]:
        assert sample.get(key).shape == shape and sample.get(key).dtype == dtype, key
    assert torch.equal(sample.prompt_boxes, torch.from_numpy(state['prompt_boxes']))
    assert sample.labels.tolist() == [0, 1, 0]
    assert sample.hboxes[2].tolist() == [12., 20., 60., 92.]
    assert sample.instance_ids.tolist() == [0, 1, 2]


def test_without_rboxes_and_only_box_prompts():
    sample = PackSAMInputs()(results(rbox=False))['data_samples']
    assert 'rboxes' not in sample and 'prompt_points' not in sample
    assert 'prompt_masks' not in sample and sample.prompt_boxes.shape == (3, 4)


def test_no_instances():
    sample = PackSAMInputs()(results(num=0, rbox=False))['data_samples']
    assert sample.labels.shape == (0, ) and sample.hboxes.shape == (0, 4)
    assert sample.prompt_boxes.shape == (0, 4) and 'rboxes' not in sample


def test_load_error_is_kept_in_metainfo():
    sample = PackSAMInputs()(results(load_error='cannot read image'))['data_samples']
    assert sample.load_error == 'cannot read image'


@pytest.mark.parametrize('breakage, message', [
    (lambda s: s.pop('sam_input_shape'), 'sam_input_shape'),
    (lambda s: s['instances'][1].pop('rbox'), 'rbox'),
    (lambda s: s.update(prompt_boxes=s['prompt_boxes'][:2]), 'prompt_boxes has 2 rows'),
    (lambda s: s.update(img=s['img'][..., 0]), r'\(H, W, 3\)'),
])
def test_bad_input_fails_clearly(breakage, message):
    state = results()
    breakage(state)
    with pytest.raises((KeyError, ValueError), match=message):
        PackSAMInputs()(state)
