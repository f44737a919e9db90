"""SAMGenerator(compile_decoder=True): the compiled mask decoder gives the eager logits."""
import pytest
import torch

from mmsamrs.models.sam import SAMGenerator
from mmsamrs.testing import TINY_SAM_ARCH


@pytest.mark.slow  # inductor compiles the decoder: about a minute of CPU time
def test_compiled_decoder_equals_eager():
    torch.manual_seed(0)
    eager = SAMGenerator(arch=TINY_SAM_ARCH, precision='fp32').eval()
    torch.manual_seed(0)
    compiled = SAMGenerator(arch=TINY_SAM_ARCH, precision='fp32', compile_decoder=True).eval()
    assert compiled.settings()['compile_decoder'] and not eager.settings()['compile_decoder']
    # box prompts take the efficient decoder: that is what gets compiled
    assert compiled.backend.compiled_decoder is not None and eager.backend.compiled_decoder is None
    # compiling in place keeps the weights' names: checkpoints load either way
    assert compiled.state_dict().keys() == eager.state_dict().keys()
    embedding = torch.randn(256, 64, 64)
    boxes = torch.tensor([[10., 20., 200., 300.], [500., 500., 900., 700.], [0., 0., 64., 64.]])
    with torch.no_grad():
        for num in (3, 2):  # another chunk size reuses the dynamic graph
            want, want_iou = eager.backend.decode(eager.sam, embedding, None, None,
                                                  boxes[:num], None)
            got, got_iou = compiled.backend.decode(compiled.sam, embedding, None, None,
                                                   boxes[:num], None)
            torch.testing.assert_close(got, want, atol=1e-3, rtol=1e-3)
            torch.testing.assert_close(got_iou, want_iou, atol=1e-4, rtol=1e-4)
