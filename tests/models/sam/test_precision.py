"""precision='auto': bf16 exactly where the device computes it natively; logged once."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmsamrs.models.sam import SAMGenerator, backends, resolve_precision, sam_model

CPU, CUDA = torch.device('cpu'), torch.device('cuda')


@pytest.fixture
def cpu_caps(monkeypatch):
    """Set what torch reports for AVX512-BF16 and AMX (None: the query does not exist)."""

    def set_caps(avx512_bf16, amx):
        for name, value in (('_is_avx512_bf16_supported', avx512_bf16),
                            ('_is_amx_tile_supported', amx)):
            if value is None:
                monkeypatch.delattr(torch.cpu, name, raising=False)
            else:
                monkeypatch.setattr(torch.cpu, name, lambda value=value: value)

    return set_caps


@pytest.mark.parametrize('avx512_bf16,amx,expected,reason', [
    (True, False, 'bf16', 'CPU with AVX512-BF16'),
    (False, True, 'bf16', 'CPU with AMX'),
    (True, True, 'bf16', 'CPU with AVX512-BF16 and AMX'),
    (False, False, 'fp32', 'CPU without AVX512-BF16 or AMX'),
    (None, None, 'fp32', 'CPU without AVX512-BF16 or AMX'),  # a torch without the queries
])
def test_auto_on_cpu(cpu_caps, avx512_bf16, amx, expected, reason):
    cpu_caps(avx512_bf16, amx)
    assert resolve_precision('auto', CPU) == (expected, f"'auto': {reason}")


@pytest.mark.parametrize('native,expected', [(True, 'bf16'), (False, 'fp32')])
def test_auto_on_cuda(monkeypatch, native, expected):
    asked = []
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported',
                        lambda including_emulation=True: asked.append(including_emulation)
                        or native)
    chosen, reason = resolve_precision('auto', CUDA)
    assert chosen == expected and 'CUDA' in reason
    assert asked == [False]  # emulated bf16 (pre-Ampere) does not count


def test_auto_elsewhere_and_explicit_choices(cpu_caps):
    cpu_caps(True, True)
    assert resolve_precision('auto', torch.device('mps'))[0] == 'fp32'
    for name in ('fp32', 'fp16', 'bf16'):
        assert resolve_precision(name, CPU) == (name, 'set in the config')
    with pytest.raises(ValueError, match="'fp64'"):
        resolve_precision('fp64', CPU)


def test_auto_is_the_default_and_logged_once(cpu_caps, monkeypatch, sam_testing):
    model = SAMGenerator(arch=sam_testing.TINY_ARCH)
    logged = []
    monkeypatch.setattr(sam_model, 'print_log', lambda msg, **kwargs: logged.append(msg))
    assert model.precision == 'auto'
    cpu_caps(False, False)
    assert model.precision_on(CPU) == 'fp32'
    assert model.precision_on(CPU) == 'fp32'
    assert logged == ["SAM runs in fp32 on cpu ('auto': CPU without AVX512-BF16 or AMX)"]
    model.precision = 'bf16'
    with model.autocast(CPU):
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
    assert logged[-1] == 'SAM runs in bf16 on cpu (set in the config)'


def test_configs_default_to_auto():
    cfg = Config.fromfile(
        str(Path(__file__).parents[3] / 'configs' / '_base_' / 'models' / 'sam_vit-h.py'))
    assert cfg.model.precision == 'auto' and cfg.model.efficient_attention is True


@pytest.mark.parametrize('name', ['fp32', 'fp16', 'bf16', 'auto'])
def test_each_precision_segments(name, tiny_model, sam_testing, monkeypatch):
    """Valid results in every precision; post-processing runs outside autocast (float32)."""
    monkeypatch.setattr(tiny_model, 'precision', name)
    postprocess = backends.postprocess_masks_cropped
    autocast_in_postprocess = []

    def record(logits, *args, **kwargs):
        autocast_in_postprocess.append(torch.is_autocast_enabled('cpu'))
        return postprocess(logits, *args, **kwargs)

    monkeypatch.setattr(backends, 'postprocess_masks_cropped', record)
    boxes = sam_testing.BOXES[:3]
    sample = sam_testing.make_sample((200, 300), boxes=boxes, seed=4)
    (result, ) = tiny_model.test_step(pseudo_collate([sample]))
    assert autocast_in_postprocess == [False]
    assert result['scores'].dtype == np.float32 and np.isfinite(result['scores']).all()
    assert len(result['mask_crops']) == 3 and result['mask_offsets'].shape == (3, 2)
    assert all(crop.dtype == bool for crop in result['mask_crops'])
    for crop, (x0, y0) in zip(result['mask_crops'], result['mask_offsets']):
        assert x0 + crop.shape[1] <= 300 and y0 + crop.shape[0] <= 200

