"""SAM, HQ-SAM and SAM 2.1 behind SAMGenerator: arch names and official checkpoints, weight
files in each family's layout, prompt geometry per input frame, and masks equal to each
family's own predictor."""
import json
import os
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner
from PIL import Image

from mmsamrs.models.sam import (SAM_ARCHS, SAM_CHECKPOINTS, HQSAMBackend, SAM2Backend,
                                SAMBackend, SAMDataPreprocessor, SAMGenerator,
                                build_backend, build_frame, build_sam, resize_masks_cropped)
from mmsamrs.models.sam.frames import pipeline_in_frame
from mmsamrs.testing import TINY_ARCHS

REPO = Path(__file__).resolve().parents[3]
#: The official checkpoint file of every released arch name.
OFFICIAL_FILES = {
    'vit_b': 'sam_vit_b_01ec64.pth', 'vit_l': 'sam_vit_l_0b3195.pth',
    'vit_h': 'sam_vit_h_4b8939.pth', 'hq_vit_b': 'sam_hq_vit_b.pth',
    'hq_vit_l': 'sam_hq_vit_l.pth', 'hq_vit_h': 'sam_hq_vit_h.pth',
    'sam2.1_hiera_t': 'sam2.1_hiera_tiny.pt', 'sam2.1_hiera_s': 'sam2.1_hiera_small.pt',
    'sam2.1_hiera_b+': 'sam2.1_hiera_base_plus.pt', 'sam2.1_hiera_l': 'sam2.1_hiera_large.pt'}
FAMILIES = {'sam': SAMBackend, 'hq_sam': HQSAMBackend, 'sam2.1': SAM2Backend}
#: How each family's official weight file nests the state dict.
OFFICIAL_LAYOUT = {'sam': lambda sd: sd, 'hq_sam': lambda sd: sd,
                   'sam2.1': lambda sd: {'model': sd}}
#: A 256 x 512 image (H x W) and a box whose frame coordinates fall on mask-cell edges.
SHAPE = (256, 512)
BOX = [8, 4, 100, 50]
#: Hand-computed prompts of BOX in each frame: input shape, box, centre point, and the
#: rows and columns (low-resolution cells of 4 px) of the +v mask prompt.
#: longest side: x * 1024 / 512, y * 512 / 256 (both x2), padded below row 512;
#: square: x * 1024 / 512 (x2), y * 1024 / 256 (x4).
GEOMETRY = {
    'longest_side': dict(shape=(512, 1024), box=[16, 8, 200, 100], point=[108, 54],
                         rows=(2, 25), cols=(4, 50)),
    'square': dict(shape=(1024, 1024), box=[16, 16, 200, 200], point=[108, 108],
                   rows=(4, 50), cols=(4, 50)),
}


@pytest.fixture(scope='module')
def models():
    """One tiny random model per family (seeded), fp32."""
    built = {}
    for family, arch in TINY_ARCHS.items():
        torch.manual_seed(0)
        built[family] = SAMGenerator(arch=arch, precision='fp32').eval()
    return built


def test_every_released_name_has_its_family_and_official_file():
    assert set(SAM_ARCHS) == set(OFFICIAL_FILES)
    for name, file in OFFICIAL_FILES.items():
        backend = build_backend(name)
        family = 'hq_sam' if name.startswith('hq_') else 'sam2.1' \
            if name.startswith('sam2') else 'sam'
        assert type(backend) is FAMILIES[family]
        assert os.path.basename(backend.official_checkpoint()) == file
        assert SAM_CHECKPOINTS[name] == backend.official_checkpoint()
    assert build_backend('hq_vit_b').arch == dict(backend='hq_sam',
                                                  **build_backend('vit_b').arch)
    assert build_backend('sam2.1_hiera_b+').arch == dict(backend='sam2.1',
                                                         config='sam2.1_hiera_b+', trunk={})


@pytest.mark.parametrize('arch, match', [
    ('vit_x', 'unknown SAM arch'),
    ('sam2_hiera_t', 'unknown SAM arch'),
    (dict(backend='sam3'), 'unknown SAM backend'),
    (dict(backend='hq_sam', depth=2), 'exactly the keys'),
    (dict(backend='sam2.1', config='sam2.1_hiera_x'), 'config=<one of'),
    (dict(backend='sam2.1', config='sam2.1_hiera_t', trunk=dict(depth=2)), 'trunk'),
])
def test_bad_archs_say_what_is_expected(arch, match):
    with pytest.raises(ValueError, match=match):
        build_backend(arch)


@pytest.mark.parametrize('family', list(TINY_ARCHS))
def test_official_weights_need_a_released_arch(family):
    with pytest.raises(ValueError, match='released arch'):
        build_backend(TINY_ARCHS[family]).official_checkpoint()


def test_released_sam2_builds_at_full_size_through_the_package_config():
    """Hiera-T from sam2's shipped sam2.1_hiera_t.yaml: 38.9M parameters, as released."""
    model = build_sam('sam2.1_hiera_t')
    assert sum(p.numel() for p in model.parameters()) == 38_962_498
    assert model.image_encoder.trunk.blocks[0].dim == 96 and model.image_size == 1024


@pytest.mark.parametrize('family', list(TINY_ARCHS))
def test_checkpoint_in_the_official_layout_loads_strictly(family, tmp_path):
    """The weights written as the official files are (SAM, HQ-SAM: a plain state dict;
    SAM 2: {'model': state dict}) load into SAMGenerator; a missing or an extra weight
    is an error."""
    torch.manual_seed(7)
    state = build_sam(TINY_ARCHS[family]).state_dict()
    path = tmp_path / 'weights.pt'
    torch.save(OFFICIAL_LAYOUT[family](state), path)
    model = SAMGenerator(arch=TINY_ARCHS[family], checkpoint=str(path))
    loaded = model.sam.state_dict()
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    missing = dict(state)
    missing.pop(next(iter(missing)))
    torch.save(OFFICIAL_LAYOUT[family](missing), path)
    with pytest.raises(RuntimeError, match='missing keys'):
        SAMGenerator(arch=TINY_ARCHS[family], checkpoint=str(path))
    torch.save(OFFICIAL_LAYOUT[family](dict(state, extra=torch.zeros(1))), path)
    with pytest.raises(RuntimeError, match='unexpected key'):
        SAMGenerator(arch=TINY_ARCHS[family], checkpoint=str(path))


@pytest.mark.parametrize('family', list(TINY_ARCHS))
def test_prompts_in_each_models_frame(family, models, sam_testing):
    """The six prompts' geometry in the model's frame, against hand-computed values; the
    preprocessor resizes the image into the same frame."""
    model = models[family]
    frame = 'square' if family == 'sam2.1' else 'longest_side'
    assert model.frame.name == frame and model.data_preprocessor.frame.name == frame
    expected = GEOMETRY[frame]
    sample = sam_testing.make_sample(SHAPE, prompts='CP+H-Box+H-Box-M', boxes=[BOX],
                                     frame=frame)['data_samples']
    assert tuple(sample.sam_input_shape) == expected['shape']
    assert sample.prompt_boxes.tolist() == [expected['box']]
    assert sample.prompt_points.tolist() == [[expected['point']]]
    mask = sample.prompt_masks[0, 0]
    inside = torch.zeros_like(mask, dtype=torch.bool)
    inside[slice(*expected['rows']), slice(*expected['cols'])] = True
    assert torch.equal(mask > 0, inside) and set(mask.unique().tolist()) == {-1000., 1000.}
    rbox = sam_testing.make_sample(SHAPE, prompts='RH-Box+R-Box-M', boxes=[BOX],
                                   frame=frame)['data_samples']
    assert rbox.prompt_boxes.tolist() == [expected['box']]  # an axis-aligned rbox
    assert torch.equal(rbox.prompt_masks, sample.prompt_masks)
    image = torch.zeros(3, *SHAPE, dtype=torch.uint8)
    (inputs, ) = model.data_preprocessor(dict(inputs=[image]))['inputs']
    assert inputs.shape == (3, 1024, 1024)
    newh, neww = expected['shape']
    assert (inputs[:, newh:] == inputs[:, -1:, -1:]).all()  # padding only below SAM's image


def test_sam2_frame_matches_sam2s_own_transforms(sam_testing):
    """Image and prompt transforms equal sam2's SAM2Transforms (square resize, /w, /h)."""
    from sam2.utils.transforms import SAM2Transforms
    transforms = SAM2Transforms(resolution=1024, mask_threshold=0.0)
    sample = sam_testing.make_sample((300, 500), prompts='CP+H-Box', frame='square',
                                     seed=3)
    rgb = sample['inputs'].flip(0).permute(1, 2, 0).numpy()
    ours = SAMDataPreprocessor(frame='square')(pseudo_collate([sample]))['inputs'][0]
    assert torch.allclose(ours, transforms(rgb), atol=2e-3)
    prompts = sample['data_samples']
    boxes = torch.tensor(sam_testing.BOXES, dtype=torch.float32)
    assert torch.allclose(prompts.prompt_boxes, transforms.transform_boxes(
        boxes, normalize=True, orig_hw=(300, 500)).reshape(-1, 4), atol=1e-4)
    centres = (boxes[:, None, :2] + boxes[:, None, 2:]) / 2
    assert torch.allclose(prompts.prompt_points, transforms.transform_coords(
        centres, normalize=True, orig_hw=(300, 500)), atol=1e-4)


def test_a_pipeline_in_another_frame_is_refused(models, sam_testing):
    sample = sam_testing.make_sample((300, 500), frame='longest_side')
    with pytest.raises(ValueError, match=r"frame=\'square\'"):
        models['sam2.1'].data_preprocessor(pseudo_collate([sample]))


@pytest.mark.parametrize('prompts', ['CP+H-Box+H-Box-M', 'RH-Box-M'])
def test_hq_sam_equals_its_predictor(models, sam_testing, prompts):
    """HQ-SAM: masks and scores bit-identical to segment_anything_hq's SamPredictor
    (``hq_token_only=False``) on the same preprocessed image."""
    from segment_anything_hq import SamPredictor
    model = models['hq_sam']
    sample = sam_testing.make_sample((250, 400), prompts=prompts, seed=5)
    # one decoder call for all prompts, as the predictor makes (same float rounding)
    previous, model.prompt_chunk_size = model.prompt_chunk_size, len(sam_testing.BOXES)
    try:
        (result, ) = model.test_step(pseudo_collate([sample]))
    finally:
        model.prompt_chunk_size = previous
    rgb = sample['inputs'].flip(0).float()[None]
    predictor = SamPredictor(model.sam)
    with torch.no_grad():
        predictor.set_torch_image(
            F.interpolate(rgb, tuple(sample['data_samples'].sam_input_shape),
                          mode='bilinear', align_corners=False, antialias=True), (250, 400))
        data = sample['data_samples']
        logits, iou, _ = predictor.predict_torch(
            data.get('prompt_points'), data.get('prompt_point_labels'),
            boxes=data.get('prompt_boxes'), mask_input=data.get('prompt_masks'),
            multimask_output=False, return_logits=True, hq_token_only=False)
    assert np.array_equal(sam_testing.paste(result), (logits[:, 0] > 0).numpy())
    assert np.array_equal(result['scores'], iou[:, 0].numpy())


@pytest.mark.parametrize('prompts', ['CP+H-Box+H-Box-M', 'RH-Box-M'])
def test_sam2_equals_its_image_predictor(models, sam_testing, prompts):
    """SAM 2.1: the encoder's features equal SAM2ImagePredictor.set_image's (float
    rounding of the preprocessing aside); from the same features, masks and scores are
    bit-identical to ``SAM2ImagePredictor._predict`` (prompts in the square frame)."""
    from sam2.sam2_image_predictor import SAM2ImagePredictor
    model = models['sam2.1']
    sample = sam_testing.make_sample((250, 400), prompts=prompts, seed=6, frame='square')
    data = model.data_preprocessor(pseudo_collate([sample]))
    (embedding, ) = model.embed(data['inputs'], data['data_samples'])
    predictor = SAM2ImagePredictor(model.sam)
    predictor.set_image(sample['inputs'].flip(0).permute(1, 2, 0).numpy())
    official = predictor._features
    assert torch.allclose(embedding[0], official['image_embed'][0], atol=1e-3)
    for ours, theirs in zip(embedding[1], official['high_res_feats']):
        assert torch.allclose(ours, theirs[0], atol=1e-3)
    predictor._features = dict(image_embed=embedding[0][None],
                               high_res_feats=[level[None] for level in embedding[1]])
    prompts = data['data_samples'][0]
    # the predictor batches prompts only with points or boxes: mask prompts one by one
    chunk = len(prompts.labels) if 'prompt_boxes' in prompts or \
        'prompt_points' in prompts else 1
    previous, model.prompt_chunk_size = model.prompt_chunk_size, chunk
    try:
        (result, ) = model.decode([embedding], data['data_samples'])
    finally:
        model.prompt_chunk_size = previous
    logits, iou = [], []
    with torch.no_grad():
        for start in range(0, len(prompts.labels), chunk):
            part = {key: prompts.get(key)[start:start + chunk] if key in prompts else None
                    for key in ('prompt_points', 'prompt_point_labels', 'prompt_boxes',
                                'prompt_masks')}
            part_logits, part_iou, _ = predictor._predict(
                part['prompt_points'], part['prompt_point_labels'],
                boxes=part['prompt_boxes'], mask_input=part['prompt_masks'],
                multimask_output=False, return_logits=True, img_idx=0)
            logits.append(part_logits[:, 0])
            iou.append(part_iou[:, 0])
    assert np.array_equal(sam_testing.paste(result), (torch.cat(logits) > 0).numpy())
    assert np.array_equal(result['scores'], torch.cat(iou).numpy())


def test_sam2_postprocessing_is_a_direct_resize():
    """resize_masks_cropped: the crops of F.interpolate(logits, (H, W)) > 0."""
    torch.manual_seed(3)
    logits = torch.randn(3, 1, 256, 256) - 2.5
    logits[2] = -1  # an empty mask
    crops, offsets = resize_masks_cropped(logits, (300, 700))
    full = F.interpolate(logits, (300, 700), mode='bilinear', align_corners=False)[:, 0] > 0
    for mask, crop, (x0, y0) in zip(full, crops, offsets):
        pasted = np.zeros((300, 700), bool)
        pasted[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
        assert np.array_equal(pasted, mask.numpy())
    assert crops[2].shape == (0, 0)


@pytest.mark.parametrize('family', list(TINY_ARCHS))
def test_batches_and_chunks_in_every_family(family, models, sam_testing):
    """Two images of different sizes in one batch, prompts decoded in chunks of 2: the
    same results as each image alone in one chunk (scores to float rounding)."""
    model = models[family]
    frame = model.frame.name
    samples = [sam_testing.make_sample(shape, prompts='CP+H-Box', seed=i, frame=frame)
               for i, shape in enumerate([(300, 500), (480, 360)])]
    batched = model.test_step(pseudo_collate(samples))
    previous, model.prompt_chunk_size = model.prompt_chunk_size, 2
    try:
        alone = [model.test_step(pseudo_collate([s]))[0] for s in samples]
    finally:
        model.prompt_chunk_size = previous
    for ours, single, shape in zip(batched, alone, [(300, 500), (480, 360)]):
        assert ours['ori_shape'] == shape and len(ours['mask_crops']) == len(sam_testing.BOXES)
        assert np.allclose(ours['scores'], single['scores'], atol=1e-4)
        differ = sam_testing.paste(ours) != sam_testing.paste(single)
        assert differ.mean() < 1e-3


def write_dota(root, shapes):
    """A DOTA v1.0 source of random non-square images, two ships each."""
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    rng = np.random.default_rng(0)
    for i, (height, width) in enumerate(shapes):
        Image.fromarray(rng.integers(0, 256, (height, width, 3), np.uint8)).save(
            root / 'images' / f'P{i}.png')
        boxes = [(4, 6, 30, 28), (20, 24, width - 5, height - 3)]
        (root / 'labelTxt' / f'P{i}.txt').write_text(''.join(
            f'{x1} {y1} {x2} {y1} {x2} {y2} {x1} {y2} ship 0\n' for x1, y1, x2, y2 in boxes))
    return root


@pytest.mark.parametrize('family', ['hq_sam', 'sam2.1'])
def test_generation_end_to_end(family, tmp_path):
    """configs/gen/dota_hbox.py with only model.arch changed: the run makes its prompts in
    the model's frame, writes every instance, pins the arch and frame, and resumes."""
    data = write_dota(tmp_path / 'dota', [(48, 80), (70, 40)])
    config = tmp_path / 'gen.py'
    config.write_text(f"""_base_ = [{str(REPO / 'configs' / 'gen' / 'dota_hbox.py')!r}]
model = dict(arch=dict(_delete_=True, **{TINY_ARCHS[family]!r}), checkpoint=None,
             precision='fp32')
test_dataloader = dict(batch_size=2, num_workers=0,
                       dataset=dict(data_root={str(data)!r}, version='1.0'))
log_level = 'WARNING'
""")

    def run(resume):
        cfg = Config.fromfile(str(config))
        cfg.work_dir = str(tmp_path / 'out')
        cfg.experiment_name = uuid.uuid4().hex
        cfg.test_cfg.resume = resume
        Runner.from_cfg(cfg).test()

    run(False)
    coco = json.loads((tmp_path / 'out' / 'instances.json').read_text())
    assert len(coco['images']) == 2 and len(coco['annotations']) == 4
    assert {(i['height'], i['width']) for i in coco['images']} == {(48, 80), (70, 40)}
    settings = json.loads((tmp_path / 'out' / 'settings.json').read_text())
    text = json.dumps(settings)
    assert f'"backend": "{family}"' in text
    frame = 'square' if family == 'sam2.1' else 'longest_side'
    assert f'"frame": "{frame}"' in text
    run(True)  # same settings: nothing left to do, no error


def test_pipeline_in_frame_changes_only_what_differs():
    """The loops put SAMPrompts into the model's frame; a SAM pipeline stays equal (so a
    SAM run's pinned settings do not change)."""
    pipeline = [dict(type='LoadImageOrRecordError'), dict(type='SAMPrompts', prompts='H-Box'),
                dict(type='PackSAMInputs')]
    assert pipeline_in_frame(pipeline, build_frame('longest_side')) == pipeline
    square = pipeline_in_frame(pipeline, build_frame('square'))
    assert square[1] == dict(type='SAMPrompts', prompts='H-Box', frame='square')
    assert square[0] == pipeline[0] and pipeline[1] == dict(type='SAMPrompts', prompts='H-Box')
    assert pipeline_in_frame(square, build_frame('longest_side', 512))[1] == dict(
        type='SAMPrompts', prompts='H-Box', frame='longest_side', target_length=512)
