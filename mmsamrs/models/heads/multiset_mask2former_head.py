"""Mask2Former with one query classifier per label set, for multi-head SEP (SAMRS 4.1).

As in the official SAMRS code, the pixel decoder and the transformer decoder (queries,
masked attention, mask embedding) are shared by all sets; each set has its own class
embedding (``Linear(feat_channels, num_classes + 1)``, the last class being "no object")
and its own classification loss weights. Masked attention depends only on the mask
predictions, so one decoder pass serves every set.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.models.decode_heads import Mask2FormerHead
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from mmsamrs.models.segmentors.multihead_encoder_decoder import group_by_set, rows
from mmsamrs.registry import MODELS


class SetQueryClassifiers(nn.ModuleDict):
    """One ``Linear(feat_channels, classes + 1)`` per set, in the head's ``cls_embed`` place.

    Called by the shared decoder, it returns the (post-normalised) query features unchanged;
    each set's classifier is applied to that set's samples by the head.
    """

    def __init__(self, feat_channels: int, heads: Dict[str, int]) -> None:
        super().__init__({name: nn.Linear(feat_channels, n + 1) for name, n in heads.items()})

    def forward(self, queries: Tensor) -> Tensor:
        """Identity: classification happens per set."""
        return queries


@MODELS.register_module()
class MultiSetMask2FormerHead(Mask2FormerHead):
    """mmseg's ``Mask2FormerHead`` with per-set query classifiers and losses.

    Config: ``model.decode_head=dict(type='mmsamrs.MultiSetMask2FormerHead', ...)`` inside
    ``MultiHeadEncoderDecoder``, which passes its ``heads`` and lets this head route the
    sets (see ``configs/_base_/models/mask2former_r50.py``). Every other argument is
    mmseg's ``Mask2FormerHead``'s; ``num_classes`` is not given.

    Training: one pass of the shared decoders over the batch; then, per set present, that
    set's classifier on its samples' query features of every decoder layer and mmdet's
    Mask2Former losses (Hungarian matching, class, mask and dice losses) on those samples,
    logged as ``<loss>.<SET>`` (e.g. ``decode.loss_cls.SOTA``, ``decode.d3.loss_dice.FAST``).
    mmdet's loss code reads the class count and class weights from the head, so those are
    the set's while its loss is computed. Prediction: each sample's segmentation logits in
    its own set's classes, zero-padded to the largest class count.

    Args:
        heads: Set name -> number of classes (given by ``MultiHeadEncoderDecoder``).
        loss_cls: Classification loss config; its ``class_weight`` is built per set as
            ``[1.0] * classes + [no_object_weight]``.
        no_object_weight: Weight of the "no object" class (Mask2Former: 0.1).
        **kwargs: As mmseg's ``Mask2FormerHead``.
    """

    def __init__(self, heads: Dict[str, int], loss_cls: ConfigType,
                 no_object_weight: float = 0.1, **kwargs) -> None:
        width = max(heads.values())
        super().__init__(num_classes=width, loss_cls=self._loss_cfg(loss_cls, width,
                                                                   no_object_weight),
                         **kwargs)
        self.heads = dict(heads)
        self.cls_embed = SetQueryClassifiers(kwargs['feat_channels'], self.heads)
        self.set_losses_cls = nn.ModuleDict({
            name: MODELS.build(self._loss_cfg(loss_cls, n, no_object_weight))
            for name, n in self.heads.items()})

    @staticmethod
    def _loss_cfg(loss_cls: ConfigType, num_classes: int,
                  no_object_weight: float) -> ConfigDict:
        """``loss_cls`` with the class weights of a set of ``num_classes`` classes."""
        return ConfigDict(loss_cls, class_weight=[1.0] * num_classes + [no_object_weight])

    @contextmanager
    def _set_classes(self, name: str) -> Iterator[None]:
        """Within the block, the head's class count and classification loss are set ``name``'s."""
        saved = self.num_classes, self.class_weight, self.loss_cls
        self.num_classes = self.heads[name]
        self.loss_cls = self.set_losses_cls[name]
        self.class_weight = self.loss_cls.class_weight
        try:
            yield
        finally:
            self.num_classes, self.class_weight, self.loss_cls = saved

    def loss(self, x: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Per-set Mask2Former losses after one shared decoder pass."""
        groups = group_by_set(self.heads, [s.metainfo for s in batch_data_samples])
        gt_instances, img_metas = self._seg_data_to_instance_data(batch_data_samples)
        all_queries, all_mask_preds = self(x, batch_data_samples)
        losses = dict()
        for name, idx in groups.items():
            cls_scores = [self.cls_embed[name](q[rows(idx)]) for q in all_queries]
            mask_preds = [m[rows(idx)] for m in all_mask_preds]
            with self._set_classes(name):
                set_losses = self.loss_by_feat(cls_scores, mask_preds,
                                               [gt_instances[i] for i in idx],
                                               [img_metas[i] for i in idx])
            losses.update({f'{key}.{name}': value for key, value in set_losses.items()})
        return losses

    def predict(self, x: Tuple[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Logits of each sample's own set (Mask2Former's semantic inference), zero-padded."""
        groups = group_by_set(self.heads, batch_img_metas)
        samples = [SegDataSample(metainfo=meta) for meta in batch_img_metas]
        all_queries, all_mask_preds = self(x, samples)
        size = batch_img_metas[0].get('pad_shape', batch_img_metas[0]['img_shape'])
        mask_probs = F.interpolate(all_mask_preds[-1], size=size, mode='bilinear',
                                   align_corners=False).sigmoid()
        logits = mask_probs.new_zeros((len(samples), self.num_classes, *size))
        for name, idx in groups.items():
            cls_scores = self.cls_embed[name](all_queries[-1][rows(idx)])
            probs = F.softmax(cls_scores, dim=-1)[..., :-1]
            logits[rows(idx), :self.heads[name]] = torch.einsum(
                'bqc,bqhw->bchw', probs, mask_probs[rows(idx)])
        return logits
