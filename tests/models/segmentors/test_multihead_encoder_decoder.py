"""MultiHeadEncoderDecoder: loss routing, one trunk pass, per-set prediction, equivalence."""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmseg.models.segmentors import EncoderDecoder
from mmsamrs.testing import labelled_batch

from mmsamrs.models import export_sep_checkpoint
from mmsamrs.models.segmentors import MultiHeadEncoderDecoder, SetClassifiers
from mmsamrs.registry import MODELS

HEADS = dict(SOTA=3, SIOR=4, FAST=5)
SIZE = 64
NORM = dict(type='BN', requires_grad=True)
BACKBONE = dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8,
                out_indices=(0, 1, 2, 3), norm_cfg=NORM)
DECODE = dict(type='UPerHead', in_channels=[8, 16, 32, 64], in_index=[0, 1, 2, 3],
              pool_scales=(1, 2, 3, 6), channels=16, dropout_ratio=0.1, norm_cfg=NORM,
              align_corners=False, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
UNET = dict(type='mmsamrs.UNetHead', in_channels=[8, 16, 32, 64], in_index=[0, 1, 2, 3],
            channels=8, dropout_ratio=0.1, norm_cfg=NORM, align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
AUX = dict(type='FCNHead', in_channels=32, in_index=2, channels=8, num_convs=1,
           concat_input=False, dropout_ratio=0.1, norm_cfg=NORM, align_corners=False,
           loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4))


def multihead(test_cfg: dict = None, decode: dict = DECODE,
              **kwargs) -> MultiHeadEncoderDecoder:
    torch.manual_seed(0)
    model = MultiHeadEncoderDecoder(
        heads=HEADS, backbone=copy.deepcopy(BACKBONE), decode_head=copy.deepcopy(decode),
        auxiliary_head=copy.deepcopy(AUX), test_cfg=ConfigDict(test_cfg or dict(mode='whole')),
        **kwargs)
    model.init_weights()
    return model


def batch(names, seed: int = 0):
    """Random images and labels (with ignored pixels) of the given sets, in that order."""
    return labelled_batch(names, HEADS, SIZE, seed)


def classifier_grads(model, name):
    return [p.grad for head in model._classifier_heads()
            for p in head.conv_seg[name].parameters()]


MIXED = ['FAST', 'SOTA', 'FAST', 'SIOR', 'SOTA', 'FAST']  # interleaved sets
BLOCKS = ['SOTA', 'SOTA', 'SIOR', 'FAST', 'FAST', 'FAST']  # set by set, as the sampler gives


def test_builds_from_registry_with_one_classifier_per_set_and_head():
    init_default_scope('mmsamrs')
    model = MODELS.build(dict(type='MultiHeadEncoderDecoder', heads=HEADS, backbone=BACKBONE,
                              decode_head=DECODE, auxiliary_head=[AUX, AUX],
                              test_cfg=dict(mode='whole')))
    assert isinstance(model, MultiHeadEncoderDecoder)
    heads = [(model.decode_head, 16), *((aux, 8) for aux in model.auxiliary_head)]
    for head, channels in heads:
        assert isinstance(head.conv_seg, SetClassifiers)
        assert {n: c.out_channels for n, c in head.conv_seg.items()} == HEADS
        assert all(c.in_channels == channels and c.kernel_size == (1, 1)
                   for c in head.conv_seg.values())
    assert model.out_channels == 5


def test_init_weights_reaches_the_set_classifiers():
    model = multihead()
    for classifier in model.decode_head.conv_seg.values():
        assert torch.all(classifier.bias == 0)
        assert 0.005 < classifier.weight.std() < 0.02  # mmseg's Normal(std=0.01)


def test_loss_keys_per_set_and_total_is_plain_sum():
    model = multihead()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0))
    inputs, samples = batch(MIXED)
    log_vars = model.train_step(dict(inputs=inputs, data_samples=samples), optim)
    loss_keys = {k for k in log_vars if 'loss' in k and k != 'loss'}
    assert loss_keys == {
        f'{head}.loss_ce.{name}' for head in ('decode', 'aux') for name in HEADS}
    assert {k for k in log_vars if 'acc' in k} == {
        f'{head}.acc_seg.{name}' for head in ('decode', 'aux') for name in HEADS}
    assert torch.isclose(log_vars['loss'], sum(log_vars[k] for k in loss_keys))


def test_trunk_and_head_bodies_run_once_per_batch():
    model = multihead()
    calls = {'backbone': 0, 'decode': 0, 'aux': 0}
    for name, module in [('backbone', model.backbone), ('decode', model.decode_head),
                         ('aux', model.auxiliary_head)]:
        module.register_forward_hook(
            lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    model.loss(*batch(MIXED))
    assert calls == {'backbone': 1, 'decode': 1, 'aux': 1}
    model.eval()
    model.predict(*batch(MIXED))
    assert calls == {'backbone': 2, 'decode': 2, 'aux': 1}


@pytest.mark.parametrize('decode', [DECODE, UNET], ids=['upernet', 'unet'])
@pytest.mark.parametrize('names', [MIXED, BLOCKS])
def test_each_set_loss_equals_its_sub_batch_alone_and_a_plain_encoder_decoder(names, decode):
    # BN running statistics, no dropout: samples are independent
    model = multihead(decode=decode).eval()
    inputs, samples = batch(names)
    losses = model.loss(inputs, samples)
    for name in HEADS:
        idx = [i for i, s in enumerate(samples) if s.dataset_name == name]
        alone = model.loss(inputs[idx], [samples[i] for i in idx])
        assert set(alone) == {f'{h}.{k}.{name}' for h in ('decode', 'aux')
                              for k in ('loss_ce', 'acc_seg')}
        for key, value in alone.items():
            torch.testing.assert_close(losses[key], value)
        plain = plain_model_for(model, name, decode)
        plain_losses = plain.loss(inputs[idx], [samples[i] for i in idx])
        for head in ('decode', 'aux'):
            torch.testing.assert_close(losses[f'{head}.loss_ce.{name}'],
                                       plain_losses[f'{head}.loss_ce'])


def test_a_set_head_gets_gradient_only_from_its_own_samples():
    model = multihead().eval()
    inputs, samples = batch(['SOTA', 'SIOR', 'SOTA', 'SIOR'])  # no FAST sample
    losses = model.loss(inputs, samples)
    assert not any(k.endswith('.FAST') for k in losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(g is None for g in classifier_grads(model, 'FAST'))
    sior_grads = [g.clone() for g in classifier_grads(model, 'SIOR')]
    sota_grads = [g.clone() for g in classifier_grads(model, 'SOTA')]
    assert all(g.abs().sum() > 0 for g in sior_grads + sota_grads)

    # relabel the SOTA samples: SIOR's losses and gradients do not move, SOTA's do
    relabelled = copy.deepcopy(samples)
    for sample in relabelled[0::2]:
        sample.gt_sem_seg.data = (sample.gt_sem_seg.data + 1) % HEADS['SOTA']
    model.zero_grad(set_to_none=True)
    new_losses = model.loss(inputs, relabelled)
    sum(v for k, v in new_losses.items() if 'loss' in k).backward()
    for key in ('decode.loss_ce.SIOR', 'aux.loss_ce.SIOR'):
        torch.testing.assert_close(new_losses[key], losses[key])
    assert not torch.isclose(new_losses['decode.loss_ce.SOTA'], losses['decode.loss_ce.SOTA'])
    for old, new in zip(sior_grads, classifier_grads(model, 'SIOR')):
        torch.testing.assert_close(new, old)
    assert any(not torch.allclose(old, new)
               for old, new in zip(sota_grads, classifier_grads(model, 'SOTA')))


def test_predict_uses_each_samples_own_head():
    model = multihead().eval()
    inputs, samples = batch(MIXED)
    with torch.no_grad():
        results = model.predict(inputs, samples)
    for result, name in zip(results, MIXED):
        assert result.seg_logits.data.shape == (HEADS[name], SIZE, SIZE)
        assert result.pred_sem_seg.data.shape == (1, SIZE, SIZE)
        torch.testing.assert_close(result.pred_sem_seg.data[0],
                                   result.seg_logits.data.argmax(0))


@pytest.mark.parametrize('decode', [DECODE, UNET], ids=['upernet', 'unet'])
@pytest.mark.parametrize('test_cfg,names', [
    (dict(mode='whole'), MIXED), (dict(mode='whole'), BLOCKS),
    (dict(mode='slide', crop_size=(48, 48), stride=(32, 32)), MIXED)])
def test_predictions_equal_a_plain_encoder_decoder_with_the_same_weights(test_cfg, names,
                                                                        decode):
    model = multihead(test_cfg, decode).eval()
    inputs, samples = batch(names)
    with torch.no_grad():
        results = model.predict(inputs, copy.deepcopy(samples))
        for name in HEADS:
            idx = [i for i, n in enumerate(names) if n == name]
            plain = plain_model_for(model, name, decode)
            expected = plain.predict(inputs[idx], [copy.deepcopy(samples[i]) for i in idx])
            for i, exp in zip(idx, expected):
                torch.testing.assert_close(results[i].seg_logits.data, exp.seg_logits.data)
                assert torch.equal(results[i].pred_sem_seg.data, exp.pred_sem_seg.data)


def test_tensor_mode_gives_every_sets_logits():
    model = multihead().eval()
    inputs, _ = batch(MIXED)
    with torch.no_grad():
        out = model(inputs, mode='tensor')
    assert {k: v.shape[:2] for k, v in out.items()} == {
        n: (len(MIXED), c) for n, c in HEADS.items()}


def test_samples_must_name_a_known_set():
    model = multihead()
    inputs, samples = batch(['SOTA', 'SIOR'])
    samples[1].set_metainfo(dict(dataset_name='iSAID'))
    with pytest.raises(KeyError, match="'iSAID'.*known sets"):
        model.loss(inputs, samples)
    inputs, samples = batch(['SOTA'])
    del samples[0].dataset_name
    with pytest.raises(KeyError, match='dataset_name'):
        model.loss(inputs, samples)
    with pytest.raises(KeyError, match='dataset_name'):
        model.eval().predict(inputs)  # no data samples, no set names


@pytest.mark.parametrize('heads', [{}, {'a.b': 3}, {'SOTA_loss': 3}, {'SOTA': 1}])
def test_bad_heads_are_refused(heads):
    with pytest.raises(ValueError):
        MultiHeadEncoderDecoder(heads=heads, backbone=BACKBONE, decode_head=DECODE)


def plain_model_for(model: MultiHeadEncoderDecoder, name: str,
                    decode: dict = DECODE) -> EncoderDecoder:
    """A plain EncoderDecoder for set ``name``, strictly loaded from ``model``'s export."""
    plain = EncoderDecoder(
        backbone=copy.deepcopy(BACKBONE), decode_head=dict(decode, num_classes=HEADS[name]),
        auxiliary_head=dict(AUX, num_classes=HEADS[name]), test_cfg=model.test_cfg)
    exported = export_sep_checkpoint(model.state_dict(), keep_set=name)
    plain.load_state_dict(exported['state_dict'])
    return plain.train(model.training)
