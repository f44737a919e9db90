"""MultiSetMask2FormerHead inside MultiHeadEncoderDecoder: shared decoders, per-set classes."""
import copy
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.models.decode_heads import Mask2FormerHead
from mmsamrs.testing import labelled_batch, shrink_model

from mmsamrs.models.heads.multiset_mask2former_head import SetQueryClassifiers
from mmsamrs.registry import MODELS

REPO = Path(__file__).resolve().parents[3]
HEADS = dict(SOTA=3, SIOR=4, FAST=5)
SIZE = 64


def model_cfg():
    cfg = Config.fromfile(REPO / 'configs' / '_base_' / 'models' / 'mask2former_r50.py')
    cfg.model.heads = HEADS
    shrink_model(cfg.model, 'r50')
    return cfg.model


def build():
    init_default_scope('mmsamrs')
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(model_cfg()))
    model.init_weights()
    return model


def batch(names, seed=0):
    return labelled_batch(names, HEADS, SIZE, seed)


def plain_head(model, name) -> Mask2FormerHead:
    """mmseg's single-set Mask2FormerHead with the shared weights and ``name``'s classifier."""
    cfg = copy.deepcopy(model_cfg().decode_head)
    for key in ('type', 'heads', 'no_object_weight'):
        cfg.pop(key)
    cfg.loss_cls.class_weight = [1.0] * HEADS[name] + [0.1]
    head = Mask2FormerHead(num_classes=HEADS[name], **cfg)
    state = {k: v for k, v in model.decode_head.state_dict().items()
             if not k.startswith('cls_embed.')}
    state.update({f'cls_embed.{p}': v for p, v in
                  model.decode_head.cls_embed[name].state_dict().items()})
    head.load_state_dict(state)
    return head.eval()


def test_one_classifier_per_set_with_a_no_object_class():
    model = build()
    head = model.decode_head
    assert model.head_routes_sets and not hasattr(head, 'conv_seg')
    assert isinstance(head.cls_embed, SetQueryClassifiers)
    assert {n: c.out_features for n, c in head.cls_embed.items()} == {
        n: c + 1 for n, c in HEADS.items()}
    assert {n: loss.class_weight for n, loss in head.set_losses_cls.items()} == {
        n: [1.0] * c + [0.1] for n, c in HEADS.items()}


def test_loss_keys_per_set_and_only_present_sets():
    model = build().eval()  # BN statistics fixed: the backbone output is per sample
    inputs, samples = batch(['SOTA', 'FAST', 'SOTA'])
    losses = model.loss(inputs, samples)
    assert {k.rsplit('.', 1)[1] for k in losses} == {'SOTA', 'FAST'}
    assert {'decode.loss_cls.SOTA', 'decode.loss_mask.FAST', 'decode.d0.loss_dice.SOTA'} <= set(
        losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    head = model.decode_head
    assert all(p.grad is None for p in head.cls_embed['SIOR'].parameters())
    assert all(p.grad.abs().sum() > 0 for n in ('SOTA', 'FAST')
               for p in head.cls_embed[n].parameters())


def test_a_sets_losses_equal_mmsegs_single_set_head_on_its_samples():
    model = build().eval()
    for name in HEADS:
        inputs, samples = batch([name, name], seed=len(name))
        feats = model.extract_feat(inputs)
        plain = plain_head(model, name)
        torch.manual_seed(1)  # Mask2Former samples points at random in its losses
        ours = model.decode_head.loss(feats, samples, None)
        torch.manual_seed(1)
        theirs = plain.loss(feats, samples, None)
        assert set(ours) == {f'{k}.{name}' for k in theirs}
        for key, value in theirs.items():
            torch.testing.assert_close(ours[f'{key}.{name}'], value, msg=key)


def test_predictions_are_each_samples_own_sets_and_match_mmseg():
    model = build().eval()
    names = ['FAST', 'SOTA', 'SIOR', 'FAST']
    inputs, samples = batch(names)
    with torch.no_grad():
        results = model.predict(inputs, copy.deepcopy(samples))
        feats = model.extract_feat(inputs)
        for i, (result, name) in enumerate(zip(results, names)):
            assert result.seg_logits.data.shape == (HEADS[name], SIZE, SIZE)
            expected = plain_head(model, name).predict(
                [f[i:i + 1] for f in feats], [samples[i].metainfo], None)[0]
            torch.testing.assert_close(result.seg_logits.data, expected)
            assert result.pred_sem_seg.data.max() < HEADS[name]
