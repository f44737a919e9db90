"""The SDPA attention equals segment_anything's, block by block, in fp32 and bf16."""
import copy

import pytest
import torch
from segment_anything.modeling.image_encoder import Attention, Block

from mmsamrs.models.sam import SAMGenerator, efficient_attention
from mmsamrs.models.sam.efficient_attention import (sdpa_attention_forward,
                                                    use_efficient_attention)

ORIGINAL_FORWARD = Attention.forward
#: name -> (Block arguments, token grid of the input)
BLOCKS = {
    # windowed: 14 x 10 tokens padded to 3 x 2 windows of 7 x 7 (SAM's 14 x 14 scaled down)
    'window': (dict(window_size=7, input_size=(14, 10)), (14, 10)),
    # global attention over the whole (non-square) grid
    'global': (dict(window_size=0, input_size=(9, 12)), (9, 12)),
    # global attention without relative positions
    'global-no-rel-pos': (dict(window_size=0, input_size=(9, 12), use_rel_pos=False),
                          (9, 12)),
}
#: precision -> (input dtype, weight dtype, autocast dtype, atol, rtol)
PRECISIONS = {
    'fp32': (torch.float32, torch.float32, None, 1e-5, 1e-5),
    'bf16-autocast': (torch.float32, torch.float32, torch.bfloat16, 3e-2, 2e-2),
    'bf16-weights': (torch.bfloat16, torch.bfloat16, None, 3e-2, 2e-2),
}


def make_block(name: str, seed: int = 0) -> Block:
    """A random SAM encoder block whose relative-position tables are not zero."""
    torch.manual_seed(seed)
    kwargs, _ = BLOCKS[name]
    block = Block(dim=48, num_heads=3, **dict(dict(use_rel_pos=True), **kwargs)).eval()
    if block.attn.use_rel_pos:
        torch.nn.init.normal_(block.attn.rel_pos_h, std=0.5)
        torch.nn.init.normal_(block.attn.rel_pos_w, std=0.5)
    return block


def run_both(name: str, precision: str, batch: int = 2) -> tuple:
    """(original output, SDPA output) of the same block and random input."""
    in_dtype, weight_dtype, autocast, _, _ = PRECISIONS[precision]
    original = make_block(name).to(weight_dtype)
    efficient = copy.deepcopy(original)
    assert use_efficient_attention(efficient) == 1
    height, width = BLOCKS[name][1]
    x = torch.randn(batch, height, width, 48, generator=torch.Generator().manual_seed(1))
    x = x.to(in_dtype)
    with torch.no_grad(), torch.autocast('cpu', dtype=autocast or torch.bfloat16,
                                         enabled=autocast is not None):
        return original(x), efficient(x)


@pytest.mark.parametrize('precision', PRECISIONS)
@pytest.mark.parametrize('name', BLOCKS)
def test_block_equals_original(name, precision):
    expected, actual = run_both(name, precision)
    _, _, _, atol, rtol = PRECISIONS[precision]
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol)


@pytest.mark.parametrize('name', ['window', 'global'])
def test_relative_positions_matter(name):
    """The comparison is sensitive to the bias: dropping it changes the output."""
    block = make_block(name)
    efficient = copy.deepcopy(block)
    use_efficient_attention(efficient)
    efficient.attn.use_rel_pos = False
    height, width = BLOCKS[name][1]
    x = torch.randn(1, height, width, 48)
    with torch.no_grad():
        assert (block(x) - efficient(x)).abs().max() > 1e-2


@pytest.mark.parametrize('budget', [1, 648 * 5, 648 * 108])  # 1, 5, all 108 query rows
def test_query_chunks_equal_one_pass(monkeypatch, budget):
    """The bias built for a few query rows at a time (uneven last chunk) changes nothing."""
    expected, _ = run_both('global', 'fp32')
    monkeypatch.setattr(efficient_attention, 'MAX_BIAS_ELEMENTS', budget)
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(efficient_attention.F, 'scaled_dot_product_attention',
                        lambda q, *args, **kwargs: calls.append(q.shape[2]) or
                        sdpa(q, *args, **kwargs))
    _, actual = run_both('global', 'fp32')
    # 2 images x 3 heads x 108 keys per query row
    rows = max(1, budget // (2 * 3 * 108))
    assert calls == [min(rows, 108 - start) for start in range(0, 108, rows)]
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)


def test_only_the_given_model_changes():
    block = make_block('global')
    other = make_block('global')
    keys = set(block.state_dict())
    use_efficient_attention(block)
    assert block.attn.forward.__func__ is sdpa_attention_forward
    assert Attention.forward is ORIGINAL_FORWARD
    assert other.attn.forward.__func__ is ORIGINAL_FORWARD
    assert set(block.state_dict()) == keys


def test_generator_option(sam_testing):
    torch.manual_seed(0)
    default = SAMGenerator(arch=sam_testing.TINY_ARCH, precision='fp32')
    torch.manual_seed(0)
    plain = SAMGenerator(arch=sam_testing.TINY_ARCH, precision='fp32',
                         efficient_attention=False)
    switched = [m for m in default.sam.image_encoder.modules() if isinstance(m, Attention)]
    assert len(switched) == sam_testing.TINY_ARCH['depth']
    assert all(m.forward.__func__ is sdpa_attention_forward for m in switched)
    assert all(m.forward.__func__ is ORIGINAL_FORWARD
               for m in plain.sam.image_encoder.modules() if isinstance(m, Attention))
    # pinned with a generation run: the two differ in the last float bits
    assert default.settings()['efficient_attention'] is True
    assert plain.settings()['efficient_attention'] is False
    for model in (default, plain):  # SAM's zero-initialised tables: make them count
        for module in model.sam.image_encoder.modules():
            if isinstance(module, Attention):
                torch.manual_seed(2)
                torch.nn.init.normal_(module.rel_pos_h, std=0.5)
                torch.nn.init.normal_(module.rel_pos_w, std=0.5)
    image = torch.randn(1, 3, 1024, 1024, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(default.sam.image_encoder(image),
                                   plain.sam.image_encoder(image), atol=1e-4, rtol=1e-4)
