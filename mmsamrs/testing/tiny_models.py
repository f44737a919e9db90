"""Tiny versions of SAM and of the model-zoo configs' models, and labelled batches, for
CPU tests and benchmarks.

``TINY_SAM_ARCH`` is a SAM image encoder small enough for CPU tests (still SAM's 1024 input
and 256-d 64x64 embedding); give it as ``SAMGenerator(arch=TINY_SAM_ARCH)`` or
``build_sam(TINY_SAM_ARCH)``. ``TINY_ARCHS`` has one such arch per model family (SAM,
HQ-SAM, SAM 2.1), built through the families' own builders.

``TINY_BACKBONES`` maps the backbone part of a ``configs/sep`` file name
(``<head>_<backbone>_<schedule>_samrs-<crop>.py``) to the keyword overrides that shrink it
(depth, width; no pre-trained weights) and the channels of its four output levels;
:func:`shrink_model` applies them to a model config together with matching decode/auxiliary
head widths.
"""
from typing import Dict, List, Tuple

import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmsamrs.utils import IGNORE_INDEX

#: A tiny SAM image encoder: 64-d, 2 blocks, 2 heads, the second block global.
TINY_SAM_ARCH: Dict[str, object] = dict(embed_dim=64, depth=2, num_heads=2,
                                        global_attn_indexes=(1, ))
#: A tiny arch per model family: SAM, HQ-SAM (the tiny ViT), SAM 2.1 (a 16-d Hiera-T,
#: 5 blocks, the fourth global).
TINY_ARCHS: Dict[str, Dict[str, object]] = {
    'sam': TINY_SAM_ARCH,
    'hq_sam': dict(backend='hq_sam', **TINY_SAM_ARCH),
    'sam2.1': dict(backend='sam2.1', config='sam2.1_hiera_t',
                   trunk=dict(embed_dim=16, num_heads=1, stages=(1, 1, 2, 1),
                              global_att_blocks=(3, ))),
}

#: backbone name -> dict(backbone=overrides, channels=four output widths, neck=overrides)
TINY_BACKBONES: Dict[str, dict] = {
    'r50': dict(backbone=dict(depth=18, stem_channels=8, base_channels=8),
                channels=[8, 16, 32, 64]),
    'swin-t': dict(backbone=dict(embed_dims=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2),
                                 drop_path_rate=0.0),
                   channels=[8, 16, 32, 64]),
    'vit-b': dict(backbone=dict(embed_dims=16, num_layers=2, num_heads=2, out_indices=(1, ),
                                drop_path_rate=0.0),
                  channels=[16] * 4, neck=dict(in_channels=[16], out_channels=16)),
    'beit-b': dict(backbone=dict(img_size=(64, 64), embed_dims=16, num_layers=4, num_heads=2,
                                 out_indices=(0, 1, 2, 3), drop_path_rate=0.0),
                   channels=[16] * 4, neck=dict(embed_dim=16)),
    'vit-adapter-b': dict(backbone=dict(pretrain_size=64, embed_dim=48, depth=4, num_heads=3,
                                        deform_num_heads=3, conv_inplane=8,
                                        interaction_indexes=[[0, 0], [1, 1], [2, 2], [3, 3]],
                                        drop_path_rate=0.0),
                          channels=[48] * 4),
    'vit-b-rvsa': dict(backbone=dict(img_size=64, embed_dim=48, depth=4, num_heads=3,
                                     window_size=4, out_indices=(0, 1, 2, 3)),
                       channels=[48] * 4),
    'vitaev2-s': dict(backbone=dict(embed_dims=(16, 16, 32, 32), token_dims=(16, 32, 32, 64),
                                  rc_heads=(1, 1, 2, 2), nc_heads=(1, 2, 2, 4),
                                  rc_groups=(1, 4, 8, 8), nc_groups=(1, 8, 8, 16),
                                  nc_depths=(1, 1, 1, 1), window_size=4),
                    channels=[16, 32, 32, 64]),
    'internimage-t': dict(backbone=dict(channels=16, depths=(1, 1, 2, 1), groups=(2, 2, 4, 4),
                                        mlp_ratio=2., drop_path_rate=0.),
                          channels=[16, 32, 64, 128]),
}


def backbone_name(config: str) -> str:
    """The backbone part of a ``configs/sep`` file name:
    ``upernet_swin-t_8xb12-80k_samrs-224x224.py`` -> ``swin-t``."""
    return config.rsplit('/', 1)[-1].split('_')[1]


def shrink_model(model_cfg, backbone: str) -> None:
    """Shrink a model config (SEP or fine-tuning) in place to the tiny ``backbone``."""
    tiny = TINY_BACKBONES[backbone]
    channels: List[int] = tiny['channels']
    model_cfg.backbone.update(tiny['backbone'], init_cfg=None)
    if 'neck' in tiny:
        model_cfg.neck.update(tiny['neck'])
    head = model_cfg.decode_head
    head.in_channels = list(channels)
    if head.type.endswith('Mask2FormerHead'):
        shrink_mask2former(head)
    else:
        head.channels = 8 if head.type.endswith('UNetHead') else 16
    if model_cfg.get('auxiliary_head'):
        model_cfg.auxiliary_head.update(in_channels=channels[2], channels=8)


def shrink_mask2former(head) -> None:
    """Narrow, shallow Mask2Former decoders with few queries and matching points."""
    dims = 16
    head.update(feat_channels=dims, out_channels=dims, num_queries=4)
    decoder = head.pixel_decoder
    decoder.norm_cfg = dict(type='GN', num_groups=4)
    decoder.encoder.num_layers = 1
    decoder.encoder.layer_cfg.self_attn_cfg.update(embed_dims=dims, num_heads=2, num_points=2)
    decoder.encoder.layer_cfg.ffn_cfg.update(embed_dims=dims, feedforward_channels=32)
    decoder.positional_encoding.num_feats = dims // 2
    head.positional_encoding.num_feats = dims // 2
    layers = head.transformer_decoder
    layers.num_layers = 2
    for attn in ('self_attn_cfg', 'cross_attn_cfg'):
        layers.layer_cfg[attn].update(embed_dims=dims, num_heads=2)
    layers.layer_cfg.ffn_cfg.update(embed_dims=dims, feedforward_channels=32)
    head.train_cfg.num_points = 64


def labelled_batch(names: List[str], heads: Dict[str, int], size: int,
                   seed: int = 0) -> Tuple[torch.Tensor, List[SegDataSample]]:
    """Random images and labels of the given sets, in that order: ``(inputs, samples)``.

    Each sample names its set (``dataset_name``) and has labels in that set's classes, its
    first ``size // 8`` rows ignored (255).
    """
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(len(names), 3, size, size, generator=gen)
    samples = []
    for name in names:
        label = torch.randint(0, heads[name], (1, size, size), generator=gen)
        label[:, :size // 8] = IGNORE_INDEX
        sample = SegDataSample(metainfo=dict(
            dataset_name=name, img_shape=(size, size), ori_shape=(size, size),
            pad_shape=(size, size), padding_size=[0, 0, 0, 0]))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return inputs, samples
