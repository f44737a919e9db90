"""``tools/export_sep.py``: a SEP checkpoint becomes a plain mmseg EncoderDecoder's start."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmseg.models.segmentors import EncoderDecoder

from mmsamrs.models import export_sep_checkpoint, is_classifier_key
from mmsamrs.models.segmentors import MultiHeadEncoderDecoder, SetClassifiers

REPO = Path(__file__).resolve().parents[2]
HEADS = dict(SOTA=3, SIOR=4, FAST=5)
NORM = dict(type='BN', requires_grad=True)
BACKBONE = dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8,
                out_indices=(0, 1, 2, 3), norm_cfg=NORM)
DECODE = dict(type='FCNHead', in_channels=64, in_index=3, channels=16, num_convs=2,
              norm_cfg=NORM)
AUXES = [dict(type='FCNHead', in_channels=c, in_index=i, channels=8, num_convs=1,
              norm_cfg=NORM) for i, c in ((1, 16), (2, 32))]


def sep_model() -> MultiHeadEncoderDecoder:
    torch.manual_seed(0)
    model = MultiHeadEncoderDecoder(heads=HEADS, backbone=dict(BACKBONE),
                                    decode_head=dict(DECODE), auxiliary_head=list(AUXES))
    model.init_weights()
    with torch.no_grad():  # make every tensor (BN statistics too) differ from a fresh model
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.rand_like(tensor))
    return model


def plain_model(num_classes: int, **kwargs) -> EncoderDecoder:
    torch.manual_seed(1)
    return EncoderDecoder(
        backbone=dict(BACKBONE), decode_head=dict(DECODE, num_classes=num_classes),
        auxiliary_head=[dict(aux, num_classes=num_classes) for aux in AUXES], **kwargs)


@pytest.fixture
def sep_checkpoint(tmp_path):
    """A SEP model and its checkpoint as the Runner writes it (objects beyond tensors)."""
    model = sep_model()
    path = tmp_path / 'iter_2.pth'
    meta = dict(iter=2, experiment_name='sep', dataset_meta=dict(classes=('a', )))
    torch.save(dict(meta=meta, state_dict=model.state_dict(),
                    message_hub=dict(log_scalars={'train/loss': HistoryBuffer()}),
                    optimizer=dict(state={})), path)
    return model, path


def export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'tools/export_sep.py', *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def classifier_keys(model: MultiHeadEncoderDecoder) -> set:
    return {f'{prefix}.{key}' for prefix, module in model.named_modules()
            if isinstance(module, SetClassifiers) for key in module.state_dict()}


def test_rule_selects_exactly_the_set_classifiers():
    state_dict = sep_model().state_dict()
    selected = {key for key in state_dict if is_classifier_key(key)}
    assert selected == classifier_keys(sep_model())
    assert len(selected) == 3 * 3 * 2  # (decode + 2 aux) x 3 sets x (weight, bias)
    assert not is_classifier_key('decode_head.conv_seg.weight')
    assert not is_classifier_key('backbone.layer1.0.conv1.weight')


def test_export_then_fine_tune_from_it_with_other_classes(sep_checkpoint, tmp_path):
    model, path = sep_checkpoint
    out = tmp_path / 'export' / 'sep_plain.pth'
    run = export(path, out)
    assert run.returncode == 0, run.stderr
    assert 'dropped 18 classifier tensors' in run.stdout

    exported = torch.load(out, map_location='cpu', weights_only=True)
    info = exported['meta']['sep_export']
    assert info['sets'] == HEADS and info['kept_set'] is None
    assert set(info['dropped']) == classifier_keys(model)
    assert info['source'] == dict(iter=2, experiment_name='sep')
    assert 'dataset_meta' not in exported['meta']

    plain = plain_model(6)
    result = plain.load_state_dict(exported['state_dict'], strict=False)
    assert not result.unexpected_keys
    assert set(result.missing_keys) == {
        f'{head}.conv_seg.{param}' for head in ('decode_head', 'auxiliary_head.0',
                                                'auxiliary_head.1')
        for param in ('weight', 'bias')}

    # fine-tuning start as configs do it: init_cfg Pretrained on the plain segmentor
    plain = plain_model(6, init_cfg=dict(type='Pretrained', checkpoint=str(out)))
    plain.init_weights()
    sep_state, plain_state = model.state_dict(), plain.state_dict()
    shared = [key for key in sep_state if not is_classifier_key(key)]
    assert set(shared) == set(plain_state) - set(result.missing_keys)
    for key in shared:
        assert torch.equal(plain_state[key], sep_state[key]), key
    fresh = plain_model(6)
    fresh.init_weights()
    for key in result.missing_keys:  # classifiers: new shape, initialised as without SEP
        assert plain_state[key].shape[0] == 6
        assert torch.equal(plain_state[key], fresh.state_dict()[key])


def test_export_keeping_one_set_loads_strictly(sep_checkpoint, tmp_path):
    model, path = sep_checkpoint
    out = tmp_path / 'sep_sior.pth'
    run = export(path, out, '--set', 'SIOR')
    assert run.returncode == 0, run.stderr
    assert 'kept SIOR as conv_seg; dropped 12 classifier tensors' in run.stdout
    plain = plain_model(HEADS['SIOR'])
    plain.load_state_dict(torch.load(out, weights_only=True)['state_dict'])  # strict
    torch.testing.assert_close(plain.auxiliary_head[1].conv_seg.weight,
                               model.auxiliary_head[1].conv_seg['SIOR'].weight)


def test_non_sep_checkpoints_and_unknown_sets_are_refused(sep_checkpoint, tmp_path):
    with pytest.raises(ValueError, match='not a MultiHeadEncoderDecoder checkpoint'):
        export_sep_checkpoint(dict(state_dict=plain_model(6).state_dict()))
    model, path = sep_checkpoint
    with pytest.raises(KeyError, match='iSAID'):
        export_sep_checkpoint(model.state_dict(), keep_set='iSAID')
    run = export(path, tmp_path / 'x.pth', '--set', 'iSAID')
    assert run.returncode != 0 and "set 'iSAID' not in the checkpoint" in run.stderr
