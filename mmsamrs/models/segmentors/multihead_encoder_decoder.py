"""Multi-head segmentation pre-training (SEP) on several label sets at once (SAMRS 4.1.2).

One backbone, neck and decode-head body are shared by all sets; each set has its own 1x1
classifier (they differ only in their number of output channels). A mixed batch goes through
the shared trunk once; then each set's classifier sees only that set's samples, and each
set's loss is computed on those samples only. A sample names its set in its metainfo under
:data:`SET_KEY`.

The per-set classifiers replace the heads' ``conv_seg`` (:class:`SetClassifiers`), so the
state dict of the shared part has exactly the keys of a plain mmseg ``EncoderDecoder``; only
``<head>.conv_seg.<SET>.weight|bias`` differ. :mod:`mmsamrs.models.sep_checkpoint` relies
on that to turn a SEP checkpoint into a plain one.
"""
import re
from typing import Dict, List, Optional, Union

import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, OptSampleList, SampleList
from mmseg.utils import add_prefix
from torch import Tensor

from mmsamrs.registry import MODELS

#: Metainfo key naming the label set a sample belongs to.
SET_KEY = 'dataset_name'

_SET_NAME = re.compile(r'[A-Za-z0-9_-]+')


class SetClassifiers(nn.ModuleDict):
    """One 1x1 convolution per set, put in a decode head's place of ``conv_seg``.

    The head's ``cls_seg`` (dropout, then ``conv_seg``) calls this module; it returns its
    input unchanged there, so the head's ``forward`` yields the pre-classifier features of
    the whole batch. :meth:`classify` then applies each set's classifier to that set's
    samples only. The head's ``init_cfg`` override of ``conv_seg`` (mmseg: Normal, std 0.01)
    reaches these convolutions, as mmengine applies an override to every submodule.

    Args:
        in_channels: Channels of the head's features (``conv_seg.in_channels``).
        heads: Set name -> number of classes of that set.
    """

    def __init__(self, in_channels: int, heads: Dict[str, int]) -> None:
        super().__init__(
            {name: nn.Conv2d(in_channels, n, kernel_size=1) for name, n in heads.items()})

    def forward(self, feats: Tensor) -> Tensor:
        """Identity: classification is deferred to :meth:`classify`."""
        return feats

    def classify(self, feats: Tensor, groups: Dict[str, List[int]]) -> Dict[str, Tensor]:
        """Return, per set in ``groups``, its classifier's logits on its samples' features."""
        return {name: self[name](feats[rows(idx)]) for name, idx in groups.items()}


@MODELS.register_module()
class MultiHeadEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` with one classifier per label set on a shared trunk (SAMRS SEP).

    Config usage (``model=...``)::

        model = dict(
            type='MultiHeadEncoderDecoder', heads=dict(SOTA=18, SIOR=20, FAST=37),
            backbone=dict(type='ResNetV1c', depth=50, ...),
            decode_head=dict(type='UPerHead', ...),       # num_classes not needed
            auxiliary_head=dict(type='FCNHead', ...),     # optional, also one per set
            test_cfg=dict(mode='whole'))                  # or 'slide'
        # validation: val_evaluator = dict(type='MultiSetIoUMetric')
        # DDP: model_wrapper_cfg = dict(type='MMDistributedDataParallel',
        #                               find_unused_parameters=True)

    Every data sample must name its set in ``metainfo['dataset_name']``. In the SEP configs
    ``heads`` is not written: ``mmsamrs.SEPRunner`` derives it from the config's
    ``samrs_sets`` (:mod:`mmsamrs.engine.sep_runner`).

    Training: the backbone, neck and decode-head body (and each auxiliary head's body) run
    once on the whole batch; each set's classifier runs on that set's samples and the head's
    own ``loss_by_feat`` gives that set's losses, logged as ``decode.loss_ce.SOTA``,
    ``decode.acc_seg.SOTA``, ``aux.loss_ce.SOTA``, ... mmengine sums every key holding
    ``'loss'``, so the total loss is the plain sum of the per-set losses (the paper's
    L = L_1 + ... + L_M); no aggregate key is logged, which would count them twice.

    A set absent from a batch adds no loss term and its classifiers get no gradient (their
    ``.grad`` stays ``None``, so the optimizer leaves them untouched, as if the set did not
    exist in that step). Under DDP such parameters count as unused: set
    ``find_unused_parameters=True`` in ``model_wrapper_cfg`` (above). With
    ``ProportionalMultiSourceSampler`` every rank's batch holds every set, so no classifier
    is ever unused; the flag keeps a run with any other sampler from failing.

    Prediction (``predict``/``val_step``/``test_step``): whole or slide inference as mmseg
    (``test_cfg.mode``); the trunk runs once per window over the (possibly mixed) batch and
    each sample gets its own set's classifier. Returned ``SegDataSample``s hold
    ``seg_logits`` with exactly that set's number of channels and ``pred_sem_seg`` in that
    set's class indices. Internally, the batched logits are zero-padded to the largest
    class count (``self.out_channels``) until the padding is cut off per sample.

    The heads' ``forward`` must end with ``cls_seg`` (true of mmseg's UPerHead, FCNHead,
    PSPHead, ASPPHead, SegformerHead, and mmsamrs' UNetHead): that is where the per-set
    classifiers sit. A decode head whose config has a ``heads`` key (mmsamrs'
    ``MultiSetMask2FormerHead``) routes the sets itself: it gets this model's ``heads``
    and computes the per-set losses (``loss``) and padded per-sample logits (``predict``).

    Args:
        heads: Set name -> number of classes of that set (>= 2). Names may hold letters,
            digits, ``_`` and ``-`` and must not contain ``'loss'`` (they become log keys).
        backbone, decode_head, neck, auxiliary_head, train_cfg, test_cfg,
        data_preprocessor, pretrained, init_cfg: As mmseg's ``EncoderDecoder``. The heads'
            ``num_classes``/``out_channels`` are ignored (set from ``heads``); a decode head
            config with a ``heads`` key (any value, e.g. ``None``) gets ``heads``.
    """

    def __init__(self,
                 heads: Dict[str, int],
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        heads = _check_heads(heads)
        width = max(heads.values())
        #: The decode head routes the sets itself (it takes ``heads``, e.g. Mask2Former).
        self.head_routes_sets = 'heads' in decode_head
        decode_head = (dict(decode_head, heads=heads) if self.head_routes_sets
                       else _head_cfg(decode_head, width))
        if isinstance(auxiliary_head, (list, tuple)):
            auxiliary_head = [_head_cfg(cfg, width) for cfg in auxiliary_head]
        elif auxiliary_head is not None:
            auxiliary_head = _head_cfg(auxiliary_head, width)
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        self.heads = heads
        for head in self._classifier_heads():
            head.conv_seg = SetClassifiers(head.conv_seg.in_channels, heads)

    def _classifier_heads(self) -> List[BaseDecodeHead]:
        """The heads that get per-set classifiers: decode head (unless it routes the sets
        itself) and auxiliary heads."""
        heads = [] if self.head_routes_sets else [self.decode_head]
        if not self.with_auxiliary_head:
            return heads
        if isinstance(self.auxiliary_head, nn.ModuleList):
            return heads + list(self.auxiliary_head)
        return heads + [self.auxiliary_head]

    def _set_losses(self, head: BaseDecodeHead, inputs: List[Tensor],
                    data_samples: SampleList) -> dict:
        """One pass of ``head``'s body, then each set's classifier and loss on its samples."""
        groups = group_by_set(self.heads, [s.metainfo for s in data_samples])
        logits = head.conv_seg.classify(head(inputs), groups)
        losses = dict()
        for name, idx in groups.items():
            set_losses = head.loss_by_feat(logits[name], [data_samples[i] for i in idx])
            losses.update({f'{key}.{name}': value for key, value in set_losses.items()})
        return losses

    def _decode_head_forward_train(self, inputs: List[Tensor],
                                   data_samples: SampleList) -> dict:
        """Per-set decode-head losses, keys ``decode.<loss>.<SET>``."""
        if self.head_routes_sets:
            losses = self.decode_head.loss(inputs, data_samples, self.train_cfg)
        else:
            losses = self._set_losses(self.decode_head, inputs, data_samples)
        return add_prefix(losses, 'decode')

    def _auxiliary_head_forward_train(self, inputs: List[Tensor],
                                      data_samples: SampleList) -> dict:
        """Per-set auxiliary losses, keys ``aux.<loss>.<SET>`` (``aux_<i>.`` for a list)."""
        if not isinstance(self.auxiliary_head, nn.ModuleList):
            return add_prefix(
                self._set_losses(self.auxiliary_head, inputs, data_samples), 'aux')
        losses = dict()
        for idx, head in enumerate(self.auxiliary_head):
            losses.update(
                add_prefix(self._set_losses(head, inputs, data_samples), f'aux_{idx}'))
        return losses

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Logits of each sample's own set, zero-padded to ``self.out_channels`` channels."""
        if self.head_routes_sets:
            return self.decode_head.predict(self.extract_feat(inputs), batch_img_metas,
                                            self.test_cfg)
        feats = self.decode_head(self.extract_feat(inputs))
        groups = group_by_set(self.heads, batch_img_metas)
        logits = feats.new_zeros((feats.shape[0], self.out_channels, *feats.shape[2:]))
        for name, set_logits in self.decode_head.conv_seg.classify(feats, groups).items():
            logits[rows(groups[name]), :self.heads[name]] = set_logits
        return self.decode_head.predict_by_feat(logits, batch_img_metas)

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: SampleList) -> SampleList:
        """mmseg's post-processing per set, on that set's channels of its samples' logits."""
        for name, idx in group_by_set(self.heads, [s.metainfo for s in data_samples]).items():
            super().postprocess_result(seg_logits[rows(idx), :self.heads[name]],
                                       [data_samples[i] for i in idx])
        return data_samples

    def _forward(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """Raw logits of every set's classifier on the whole batch (``mode='tensor'``); a
        head that routes the sets itself returns its raw outputs."""
        if self.head_routes_sets:
            return self.decode_head(self.extract_feat(inputs), data_samples)
        feats = self.decode_head(self.extract_feat(inputs))
        return {name: conv(feats) for name, conv in self.decode_head.conv_seg.items()}


def group_by_set(heads: Dict[str, int],
                 batch_img_metas: List[dict]) -> Dict[str, List[int]]:
    """Map each set present in the batch to the indices of its samples (in ``heads`` order).

    Raises:
        KeyError: A sample does not name its set (``metainfo['dataset_name']``) or names a
            set without a head.
    """
    names = []
    for i, meta in enumerate(batch_img_metas):
        if SET_KEY not in meta:
            raise KeyError(f'sample {i} of the batch has no {SET_KEY!r} in its metainfo; '
                           'the multi-head model needs it to choose the head')
        if meta[SET_KEY] not in heads:
            raise KeyError(f'sample {i} belongs to set {meta[SET_KEY]!r}, which has no '
                           f'head; known sets: {list(heads)}')
        names.append(meta[SET_KEY])
    return {name: [i for i, n in enumerate(names) if n == name]
            for name in heads if name in names}


def rows(idx: List[int]) -> Union[slice, List[int]]:
    """Index of the batch rows ``idx``: a slice (a view, no copy) when they are contiguous.

    The proportional sampler composes batches set by set, so this is the usual case.
    """
    if idx[-1] - idx[0] + 1 == len(idx):
        return slice(idx[0], idx[-1] + 1)
    return idx


def _check_heads(heads: Dict[str, int]) -> Dict[str, int]:
    """Validate the ``heads`` mapping and return it as a plain dict."""
    heads = dict(heads)
    if not heads:
        raise ValueError('heads must name at least one set')
    for name, num_classes in heads.items():
        if not isinstance(name, str) or not _SET_NAME.fullmatch(name) or 'loss' in name:
            raise ValueError(f'set name {name!r}: use letters, digits, "_" and "-", and no '
                             '"loss" (set names become log keys)')
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f'set {name!r}: num_classes must be an int >= 2, got '
                             f'{num_classes!r}')
    return heads


def _head_cfg(cfg: ConfigType, num_classes: int) -> dict:
    """Copy of a head config with the width of the placeholder classifier replaced."""
    return dict(cfg, num_classes=num_classes, out_channels=None)
