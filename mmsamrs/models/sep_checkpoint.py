"""Turn a segmentation pre-training (SEP) checkpoint into a plain mmseg fine-tuning start.

A :class:`~mmsamrs.models.segmentors.MultiHeadEncoderDecoder` keeps the state-dict keys of
a plain mmseg ``EncoderDecoder`` for everything it shares (backbone, neck, decode-head body,
auxiliary-head bodies) and puts its per-set classifiers under each head's ``conv_seg``.

**Rule.** A parameter is a per-set classifier parameter exactly when its key is
``<head>.conv_seg.<SET>.<param>`` with ``<head>`` = ``decode_head``, ``auxiliary_head`` or
``auxiliary_head.<i>`` -- the places where the segmentor puts its ``SetClassifiers``.
Those keys are dropped (or, with ``keep_set``, one set's are renamed to the plain
``<head>.conv_seg.<param>``); every other key is kept unchanged, buffers included.

A plain ``EncoderDecoder`` with any ``num_classes`` then loads the result with
``load_checkpoint(model, path, strict=False)``, ``init_cfg=dict(type='Pretrained',
checkpoint=path)`` or ``load_from=path``: the missing keys are exactly its heads'
``conv_seg.weight``/``conv_seg.bias``, which keep their fresh initialisation. With
``keep_set='SIOR'`` a plain model with SIOR's number of classes loads it strictly.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional

from mmengine.runner import CheckpointLoader, save_checkpoint

#: Keys of per-set classifier parameters (see the module docstring for the rule).
CLASSIFIER_KEY = re.compile(r'^(?P<head>decode_head|auxiliary_head(?:\.\d+)?)\.conv_seg\.'
                            r'(?P<set>[^.]+)\.(?P<param>[^.]+)$')
#: Metadata of the source checkpoint that is carried over (as ``sep_export.source``).
SOURCE_META_KEYS = ('experiment_name', 'epoch', 'iter', 'seed')


def is_classifier_key(key: str) -> bool:
    """Return True when ``key`` is a per-set classifier parameter of a SEP state dict."""
    return CLASSIFIER_KEY.match(key) is not None


def export_sep_checkpoint(checkpoint: dict, keep_set: Optional[str] = None) -> dict:
    """Return ``{'meta', 'state_dict'}`` for a plain ``EncoderDecoder`` from a SEP checkpoint.

    Args:
        checkpoint: A Runner checkpoint (with ``state_dict``) or a bare state dict of a
            ``MultiHeadEncoderDecoder``. Optimizer and scheduler states are not carried over.
        keep_set: Keep this set's classifiers as the plain ``conv_seg`` instead of
            dropping them (for evaluating or fine-tuning on that set's classes).

    Returns:
        The new checkpoint. ``meta['sep_export']`` records ``sets`` (set -> classes, read
        from the decode head's classifier weights), ``kept_set``, the ``dropped`` keys and
        ``source`` (experiment name, epoch, iteration, seed of the SEP run when known).

    Raises:
        ValueError: No per-set classifier in ``checkpoint``.
        KeyError: ``keep_set`` is not one of its sets.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    kept: Dict[str, object] = OrderedDict()
    dropped: List[str] = []
    sets: Dict[str, int] = {}
    for key, value in state_dict.items():
        match = CLASSIFIER_KEY.match(key)
        if match is None:
            kept[key] = value
            continue
        if match['head'] == 'decode_head' and match['param'] == 'weight':
            sets[match['set']] = int(value.shape[0])
        if match['set'] == keep_set:
            kept[f'{match["head"]}.conv_seg.{match["param"]}'] = value
        else:
            dropped.append(key)
    if not sets:
        raise ValueError('no per-set classifier (decode_head.conv_seg.<SET>.weight) found: '
                         'not a MultiHeadEncoderDecoder checkpoint')
    if keep_set is not None and keep_set not in sets:
        raise KeyError(f'set {keep_set!r} not in the checkpoint; its sets: {list(sets)}')
    source_meta = checkpoint.get('meta') or {}
    meta = dict(sep_export=dict(
        sets=sets, kept_set=keep_set, dropped=dropped,
        source={k: source_meta[k] for k in SOURCE_META_KEYS if k in source_meta}))
    return dict(meta=meta, state_dict=kept)


def export_sep_file(src: str, dst: str, keep_set: Optional[str] = None) -> dict:
    """Read the SEP checkpoint ``src``, write its plain export to ``dst``, return its meta."""
    exported = export_sep_checkpoint(
        CheckpointLoader.load_checkpoint(src, map_location='cpu'), keep_set)
    save_checkpoint(exported, dst)
    return exported['meta']
