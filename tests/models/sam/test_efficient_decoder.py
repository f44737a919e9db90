"""The efficient mask decoder equals segment_anything's single-mask output."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmsamrs.models.sam import SAMGenerator, build_sam
from mmsamrs.models.sam.efficient_decoder import decode_single_mask
from mmsamrs.testing import TINY_SAM_ARCH

#: The decoder is the same for every SAM size, so the tiny SAM's is the real one.
PROMPTS = {
    'boxes': dict(boxes=torch.tensor([[10., 20, 300, 400], [500, 0, 1000, 90],
                                      [0, 0, 1023, 1023]])),
    'points': dict(points=(torch.tensor([[[100., 200], [600, 700]], [[5., 5], [900, 30]]]),
                           torch.tensor([[1, 0], [1, 1]]))),
    'boxes-and-points': dict(boxes=torch.tensor([[10., 20, 300, 400], [40, 40, 80, 80]]),
                             points=(torch.tensor([[[100., 200]], [[60., 60]]]),
                                     torch.tensor([[1], [0]]))),
}


@pytest.fixture(scope='module')
def sam():
    torch.manual_seed(0)
    model = build_sam(TINY_SAM_ARCH).eval()
    # default init leaves the logits within +-0.4; spread them as a trained SAM's
    with torch.no_grad():
        model.mask_decoder.output_hypernetworks_mlps[0].layers[-1].weight.mul_(20)
    return model


def decode_both(sam, prompts, autocast=None):
    """(segment_anything's masks and IoU, ours) on a random image embedding."""
    embedding = torch.randn(1, 256, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), torch.autocast('cpu', dtype=autocast or torch.bfloat16,
                                         enabled=autocast is not None):
        sparse, dense = sam.prompt_encoder(points=prompts.get('points'),
                                           boxes=prompts.get('boxes'), masks=None)
        pe = sam.prompt_encoder.get_dense_pe()
        expected = sam.mask_decoder(image_embeddings=embedding, image_pe=pe,
                                    sparse_prompt_embeddings=sparse,
                                    dense_prompt_embeddings=dense, multimask_output=False)
        actual = decode_single_mask(sam.mask_decoder, embedding, pe, sparse, dense[:1])
    return expected, actual


@pytest.mark.parametrize('name', PROMPTS)
def test_equals_segment_anything_fp32(sam, name):
    (masks, iou), (our_masks, our_iou) = decode_both(sam, PROMPTS[name])
    assert our_masks.shape == masks.shape == (len(masks), 1, 256, 256)
    assert our_iou.shape == iou.shape
    scale = masks.abs().max().item()
    assert scale > 1 and (masks > 0).float().mean().item() > 0.05  # not a trivial output
    torch.testing.assert_close(our_masks, masks, atol=1e-4 * scale, rtol=1e-4)
    torch.testing.assert_close(our_iou, iou, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('name', ['boxes', 'points'])
def test_bf16_as_close_to_fp32_as_segment_anything_bf16(sam, name):
    """In bf16 our logits are no farther from fp32 than the package's own bf16 run."""
    (reference, reference_iou), _ = decode_both(sam, PROMPTS[name])
    (masks, _), (our_masks, our_iou) = decode_both(sam, PROMPTS[name], torch.bfloat16)
    their_error = (masks.float() - reference).abs().mean()
    our_error = (our_masks.float() - reference).abs().mean()
    assert our_error <= 1.5 * their_error
    agreement = ((our_masks > 0) == (reference > 0)).float().mean()
    assert agreement > 0.99
    torch.testing.assert_close(our_iou.float(), reference_iou, atol=3e-2, rtol=3e-2)


def test_generator_uses_it_for_boxes_not_for_masks(monkeypatch, sam_testing):
    """SAMGenerator decodes box prompts with it (and the masks equal the package's
    decoder), mask prompts with the package's own decoder."""
    calls = []
    from mmsamrs.models.sam import backends
    monkeypatch.setattr(backends, 'decode_single_mask',
                        lambda *args: calls.append(1) or decode_single_mask(*args))
    results = {}
    for efficient in (True, False):
        torch.manual_seed(0)
        model = SAMGenerator(arch=TINY_SAM_ARCH, efficient_decoder=efficient).eval()
        assert model.efficient_decoder is efficient
        assert model.settings()['efficient_decoder'] is efficient
        results[efficient] = model.test_step(
            pseudo_collate([sam_testing.make_sample((240, 300))]))[0]
        # 5 boxes at 4 per call: two calls by the efficient model, none by the other
        assert len(calls) == 2
    ours, theirs = results[True], results[False]
    np.testing.assert_allclose(ours['scores'], theirs['scores'], atol=1e-4)
    for a, b, offset_a, offset_b in zip(ours['mask_crops'], theirs['mask_crops'],
                                        ours['mask_offsets'], theirs['mask_offsets']):
        assert a.shape == b.shape and tuple(offset_a) == tuple(offset_b)
        assert (a != b).mean() < 1e-3
    masks = torch.zeros(2, 1, 256, 256)
    model.backend.efficient_decoder = True
    calls.clear()
    logits, _ = model.backend.decode(model.sam, torch.zeros(256, 64, 64), None, None,
                                     torch.tensor([[0., 0, 50, 50]] * 2), masks)
    assert logits.shape == (2, 1, 256, 256) and not calls


@pytest.mark.parametrize('arch', ['hq_vit_b', 'sam2.1_hiera_t'])
def test_other_families_keep_their_decoder(arch):
    from mmsamrs.models.sam import build_backend
    assert build_backend(arch).use_efficient_decoder() is False
