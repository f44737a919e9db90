"""SAMGenerator: batched encoder, chunked decoder, same masks and scores as SAM's predictor."""
from contextlib import contextmanager
from typing import Dict, List, Optional

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from segment_anything import SamPredictor
from segment_anything.utils.transforms import ResizeLongestSide

from mmsamrs.models.sam import SAMDataPreprocessor, SAMGenerator, build_sam
from mmsamrs.registry import MODELS

RESULT_KEYS = {'img_id', 'img_path', 'ori_shape', 'error', 'labels', 'scores', 'hboxes',
               'rboxes', 'mask_crops', 'mask_offsets'}
SHAPES = [(300, 500), (480, 360)]


class EncoderCalls:
    """Records batch size, output and autocast dtype of every image-encoder call."""

    def __init__(self, model: SAMGenerator) -> None:
        self.batches: List[int] = []
        self.outputs: List[torch.Tensor] = []
        self.autocast: List[Optional[torch.dtype]] = []
        self.handle = model.sam.image_encoder.register_forward_hook(self.hook)

    def hook(self, module, args, output) -> None:
        self.batches.append(len(args[0]))
        self.outputs.append(output)
        self.autocast.append(
            torch.get_autocast_dtype('cpu') if torch.is_autocast_enabled('cpu') else None)


@contextmanager
def chunk_size(model: SAMGenerator, chunk: int):
    """Temporarily decode ``chunk`` prompts per mask-decoder call."""
    previous, model.prompt_chunk_size = model.prompt_chunk_size, chunk
    try:
        yield
    finally:
        model.prompt_chunk_size = previous


def run(model: SAMGenerator, samples: List[Dict]):
    """``test_step`` on packed samples; returns the results and the encoder calls."""
    calls = EncoderCalls(model)
    try:
        return model.test_step(pseudo_collate(samples)), calls
    finally:
        calls.handle.remove()


def sam_predictor(model: SAMGenerator, sample: Dict) -> SamPredictor:
    """SAM's own predictor with ``sample``'s image set (its own encoder pass)."""
    rgb = sample['inputs'].flip(0).float()[None]
    height, width = rgb.shape[-2:]
    size = ResizeLongestSide.get_preprocess_shape(height, width, 1024)
    predictor = SamPredictor(model.sam)
    predictor.set_torch_image(
        F.interpolate(rgb, size, mode='bilinear', align_corners=False, antialias=True),
        (height, width))
    return predictor


def official_logits(predictor: SamPredictor, sample: Dict):
    """Full-resolution logits ``(N, H, W)`` and IoU ``(N,)`` of ``predict_torch``."""
    prompts = sample['data_samples']
    logits, iou, _ = predictor.predict_torch(
        prompts.get('prompt_points'), prompts.get('prompt_point_labels'),
        boxes=prompts.get('prompt_boxes'), mask_input=prompts.get('prompt_masks'),
        multimask_output=False, return_logits=True)
    return logits[:, 0], iou[:, 0]


@pytest.fixture(scope='module')
def batch(tiny_model, sam_testing):
    """Two non-square images with 5 and 3 boxes (some on the border) through
    ``test_step``, and SAM's predictor on each image."""
    samples = [
        sam_testing.make_sample(shape, boxes=sam_testing.BOXES[:num], seed=i)
        for i, (shape, num) in enumerate(zip(SHAPES, (5, 3)))
    ]
    results, calls = run(tiny_model, samples)
    with torch.no_grad():
        predictors = [sam_predictor(tiny_model, s) for s in samples]
        official = [official_logits(p, s) for p, s in zip(predictors, samples)]
    return dict(samples=samples, results=results, calls=calls, predictors=predictors,
                official=official)


def test_encoder_runs_once_per_batch_like_per_image(batch):
    assert batch['calls'].batches == [2] and batch['calls'].autocast == [None]
    for embedding, predictor in zip(batch['calls'].outputs[0], batch['predictors']):
        assert torch.equal(embedding, predictor.features[0])


def test_results_follow_the_output_contract(batch, sam_testing):
    assert len(batch['results']) == 2
    for result, sample, shape in zip(batch['results'], batch['samples'], SHAPES):
        num = len(sample['data_samples'].labels)
        assert set(result) == RESULT_KEYS
        assert result['img_id'] == sample['data_samples'].img_id and result['error'] is None
        assert result['ori_shape'] == shape
        assert result['labels'].dtype == np.int64
        assert result['labels'].tolist() == [0, 1, 2, 0, 1][:num]
        assert result['scores'].dtype == np.float32 and result['scores'].shape == (num, )
        assert result['hboxes'].dtype == np.float32
        assert result['hboxes'].tolist() == [list(map(float, b)) for b in sam_testing.BOXES[:num]]
        assert result['rboxes'].dtype == np.float32 and result['rboxes'].shape == (num, 5)
        assert result['mask_offsets'].dtype == np.int64
        assert result['mask_offsets'].shape == (num, 2) and len(result['mask_crops']) == num
        assert all(c.dtype == bool and c.ndim == 2 for c in result['mask_crops'])


def test_masks_and_scores_equal_sam_predictor(tiny_model, batch, sam_testing):
    """Default settings (efficient decoder, 4 prompts per call): scores to 1e-5 and masks
    everywhere but where ``SamPredictor.predict_torch``'s logit is within 1e-3 of the
    threshold. SAM's own decoder with all prompts in one call: bit-identical."""
    for result, (logits, iou) in zip(batch['results'], batch['official']):
        differ = sam_testing.paste(result) != (logits > 0).numpy()
        assert (logits.abs().numpy()[differ] < 1e-3).all()
        assert np.allclose(result['scores'], iou.numpy(), rtol=0, atol=1e-5)
    tiny_model.backend.efficient_decoder = False
    try:
        with chunk_size(tiny_model, 16):
            results, _ = run(tiny_model, batch['samples'])
    finally:
        tiny_model.backend.efficient_decoder = True
    for result, (logits, iou) in zip(results, batch['official']):
        assert np.array_equal(sam_testing.paste(result), (logits > 0).numpy())
        assert np.array_equal(result['scores'], iou.numpy())


@pytest.mark.parametrize('chunk', [1, 3])
def test_chunk_size_does_not_change_results(tiny_model, batch, sam_testing, chunk):
    """Smaller chunks change the decoder's matrix-product batch, hence the last float bits:
    scores agree to 1e-5 and masks everywhere but where SAM's own logit is within 1e-3 of
    the threshold."""
    embedding = batch['calls'].outputs[0][0]
    with chunk_size(tiny_model, chunk):
        result = tiny_model.segment(embedding, batch['samples'][0]['data_samples'])
    reference, (logits, _) = batch['results'][0], batch['official'][0]
    assert np.allclose(result['scores'], reference['scores'], rtol=0, atol=1e-5)
    differ = sam_testing.paste(result) != sam_testing.paste(reference)
    assert (logits.abs().numpy()[differ] < 1e-3).all()


def test_point_box_and_mask_prompts_equal_sam_predictor(tiny_model, sam_testing):
    sample = sam_testing.make_sample((250, 400), prompts='CP+H-Box+H-Box-M',
                                     boxes=sam_testing.BOXES[:3], seed=5)
    (result, ), _ = run(tiny_model, [sample])
    with torch.no_grad():
        logits, iou = official_logits(sam_predictor(tiny_model, sample), sample)
    assert np.array_equal(sam_testing.paste(result), (logits > 0).numpy())
    assert np.array_equal(result['scores'], iou.numpy())


def test_load_errors_skip_sam(tiny_model, sam_testing):
    failed = sam_testing.make_sample((1, 1), boxes=[], seed=7, load_error='cannot read x')
    good = sam_testing.make_sample((200, 160), boxes=sam_testing.BOXES[:1], seed=8)
    results, calls = run(tiny_model, [failed, good, failed])
    assert calls.batches == [1]
    assert results[0]['error'] == 'cannot read x' and results[2]['error'] == 'cannot read x'
    for result in (results[0], results[2]):
        assert set(result) == RESULT_KEYS
        assert result['labels'].shape == (0, ) and result['scores'].shape == (0, )
        assert result['hboxes'].shape == (0, 4) and result['rboxes'] is None
        assert result['mask_crops'] == [] and result['mask_offsets'].shape == (0, 2)
    assert results[1]['error'] is None and len(results[1]['mask_crops']) == 1
    _, calls = run(tiny_model, [failed])
    assert calls.batches == []


def test_image_without_instances(tiny_model, sam_testing):
    (result, ), calls = run(tiny_model, [sam_testing.make_sample((100, 120), boxes=[])])
    assert calls.batches == [1] and result['error'] is None
    assert result['labels'].shape == (0, ) and result['mask_crops'] == []
    assert result['scores'].dtype == np.float32 and result['mask_offsets'].shape == (0, 2)


def test_bf16_runs_on_cpu(tiny_model, sam_testing, monkeypatch):
    monkeypatch.setattr(tiny_model, 'precision', 'bf16')
    sample = sam_testing.make_sample((200, 300), boxes=sam_testing.BOXES[:2], seed=3)
    (result, ), calls = run(tiny_model, [sample])
    assert calls.autocast == [torch.bfloat16]
    assert result['scores'].dtype == np.float32 and result['scores'].shape == (2, )
    assert len(result['mask_crops']) == 2 and result['mask_offsets'].shape == (2, 2)


def test_checkpoint_round_trip(tmp_path, sam_testing):
    torch.manual_seed(1)
    source = build_sam(sam_testing.TINY_ARCH)
    raw = tmp_path / 'sam_tiny.pth'  # like the official files: a plain state dict
    torch.save(source.state_dict(), raw)
    model = SAMGenerator(arch=sam_testing.TINY_ARCH, checkpoint=str(raw))
    for key, value in source.state_dict().items():
        assert torch.equal(model.sam.state_dict()[key], value), key
    runner_style = tmp_path / 'iter_1.pth'  # an mmengine checkpoint of this model
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), runner_style)
    again = SAMGenerator(arch=sam_testing.TINY_ARCH, checkpoint=str(runner_style))
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(),
                                                  model.state_dict().values()))
    other = dict(sam_testing.TINY_ARCH, embed_dim=32)
    with pytest.raises(RuntimeError, match='size mismatch'):
        SAMGenerator(arch=other, checkpoint=str(raw))


def test_build_from_config_and_arguments(sam_testing):
    model = MODELS.build(dict(type='SAMGenerator', arch=sam_testing.TINY_ARCH,
                              prompt_chunk_size=8, precision='fp16'))
    assert isinstance(model.data_preprocessor, SAMDataPreprocessor)
    assert model.prompt_chunk_size == 8 and model.precision == 'fp16'
    with pytest.raises(ValueError, match='precision'):
        SAMGenerator(arch=sam_testing.TINY_ARCH, precision='fp64')
    with pytest.raises(ValueError, match='prompt_chunk_size'):
        SAMGenerator(arch=sam_testing.TINY_ARCH, prompt_chunk_size=0)
    with pytest.raises(ValueError, match="mode='predict'"):
        model(torch.zeros(1, 3, 1024, 1024), [], mode='loss')


def test_official_arch_sizes():
    encoder = build_sam('vit_b').image_encoder
    assert len(encoder.blocks) == 12 and encoder.patch_embed.proj.out_channels == 768
    assert [i for i, b in enumerate(encoder.blocks) if b.window_size == 0] == [2, 5, 8, 11]
    assert encoder.blocks[0].attn.num_heads == 12
    with pytest.raises(ValueError, match='unknown SAM arch'):
        build_sam('vit_s')
    with pytest.raises(ValueError, match='keys'):
        build_sam(dict(embed_dim=64, depth=2))
