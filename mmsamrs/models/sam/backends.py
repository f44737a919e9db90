"""The model families behind :class:`~mmsamrs.models.sam.SAMGenerator`: one small
interface, one class per family.

========== ===================== ============================== ==============
family     ``model.arch``        official checkpoint files      input frame
========== ===================== ============================== ==============
SAM        ``vit_b`` ``vit_l``   ``sam_vit_b_01ec64.pth``       longest side
           ``vit_h``             ``sam_vit_l_0b3195.pth``
                                 ``sam_vit_h_4b8939.pth``
HQ-SAM     ``hq_vit_b``          ``sam_hq_vit_b.pth``           longest side
           ``hq_vit_l``          ``sam_hq_vit_l.pth``
           ``hq_vit_h``          ``sam_hq_vit_h.pth``
SAM 2.1    ``sam2.1_hiera_t``    ``sam2.1_hiera_tiny.pt``       square
           ``sam2.1_hiera_s``    ``sam2.1_hiera_small.pt``
           ``sam2.1_hiera_b+``   ``sam2.1_hiera_base_plus.pt``
           ``sam2.1_hiera_l``    ``sam2.1_hiera_large.pt``
========== ===================== ============================== ==============

Each backend builds its model with its package's own builder (``segment_anything``,
``segment_anything_hq``, ``sam2``), with random weights; :class:`SAMGenerator` loads the
checkpoint (every weight must match). The rest of the generator (prompts, batching,
chunked decoding, writing) is shared; a backend only says

* :attr:`~SAMBackend.frame`: how images and prompts map to its input
  (:mod:`~mmsamrs.models.sam.frames`);
* :meth:`~SAMBackend.encode`: one image-encoder pass for a preprocessed batch, one
  embedding per image (whatever the decoder needs from the encoder);
* :meth:`~SAMBackend.decode`: low-resolution logits and predicted IoU of a chunk of
  prompts (``multimask_output=False``, the single-mask output);
* :meth:`~SAMBackend.postprocess`: those logits as tight binary crops in the original
  image, as the family's own post-processing would give them.
"""
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

import numpy as np
import torch
from segment_anything.build_sam import _build_sam
from torch import Tensor, nn

from .efficient_attention import use_efficient_attention
from .efficient_decoder import decode_single_mask
from .frames import InputFrame, LongestSideFrame, SquareFrame
from .postprocess import postprocess_masks_cropped, resize_masks_cropped

#: Encoder sizes of the released SAM (and HQ-SAM) ViTs.
VIT_SIZES = {
    'vit_b': dict(embed_dim=768, depth=12, num_heads=12, global_attn_indexes=(2, 5, 8, 11)),
    'vit_l': dict(embed_dim=1024, depth=24, num_heads=16, global_attn_indexes=(5, 11, 17, 23)),
    'vit_h': dict(embed_dim=1280, depth=32, num_heads=16, global_attn_indexes=(7, 15, 23, 31)),
}
#: Keys of a ViT-size ``arch`` dict (``_build_sam``'s ``encoder_*`` arguments).
ENCODER_KEYS = ('embed_dim', 'depth', 'num_heads', 'global_attn_indexes')
#: Hiera trunk sizes a SAM 2 ``arch`` dict may override (tiny test models).
HIERA_KEYS = ('embed_dim', 'num_heads', 'stages', 'global_att_blocks', 'window_spec',
              'window_pos_embed_bkg_spatial_size')

Crops = Tuple[List[np.ndarray], np.ndarray]


class SAMBackend:
    """Segment Anything (``segment_anything``): ViT-B/L/H, longest-side frame.

    ``arch`` is a released name (:attr:`archs`) or a dict of ViT sizes with the keys
    :data:`ENCODER_KEYS`, e.g. the tiny test encoder ``dict(embed_dim=64, depth=2,
    num_heads=2, global_attn_indexes=(1,))``; everything else (1024 input, 16 px patches,
    mask decoder) is the family's.
    """

    #: Value of an ``arch`` dict's ``backend`` key (absent: SAM).
    name = 'sam'
    #: Released variants by ``model.arch`` name: their ViT sizes.
    archs: Dict[str, Any] = {name: VIT_SIZES[name] for name in ('vit_b', 'vit_l', 'vit_h')}
    #: Official weights of each released variant (``checkpoint='official'``).
    checkpoints = {
        'vit_b': 'https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth',
        'vit_l': 'https://dl.fbaipublicfiles.com/segment_anything/sam_vit_l_0b3195.pth',
        'vit_h': 'https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth',
    }
    frame_type: Type[InputFrame] = LongestSideFrame

    def __init__(self, arch: Union[str, Dict]) -> None:
        self.arch = self.parse_arch(arch)
        #: Whether :meth:`decode` takes :func:`~.efficient_decoder.decode_single_mask`.
        self.efficient_decoder = False
        #: Its ``torch.compile``'d version once :meth:`compile_decoder` ran.
        self.compiled_decoder: Optional[Callable] = None

    def parse_arch(self, arch: Union[str, Dict]) -> Dict[str, Any]:
        """The canonical ``arch`` dict (pinned in the generation settings)."""
        if isinstance(arch, str):
            arch = self.archs[arch]
        sizes = {k: v for k, v in arch.items() if k != 'backend'}
        if set(sizes) != set(ENCODER_KEYS):
            raise ValueError(f'a {self.name} arch dict needs exactly the keys {ENCODER_KEYS} '
                             f"(and optionally 'backend'), got {sorted(arch)}")
        return dict(embed_dim=int(sizes['embed_dim']), depth=int(sizes['depth']),
                    num_heads=int(sizes['num_heads']),
                    global_attn_indexes=tuple(int(i) for i in sizes['global_attn_indexes']))

    def official_checkpoint(self) -> str:
        """URL of the official weights of the arch (a released variant)."""
        for name, known in self.archs.items():
            if self.parse_arch(known) == self.arch:
                return self.checkpoints[name]
        raise ValueError(f"checkpoint='official' needs a released arch "
                         f"({', '.join(self.archs)}) but the arch is {self.arch}; set "
                         'model.checkpoint to a weight file, or to None for random weights')

    def build(self) -> nn.Module:
        """The model with random weights, from ``segment_anything``'s builder."""
        return _build_sam(**self._vit_args())

    def _vit_args(self) -> Dict[str, Any]:
        return dict(encoder_embed_dim=self.arch['embed_dim'],
                    encoder_depth=self.arch['depth'],
                    encoder_num_heads=self.arch['num_heads'],
                    encoder_global_attn_indexes=list(self.arch['global_attn_indexes']))

    def frame(self, model: nn.Module) -> InputFrame:
        """The model's input frame."""
        return self.frame_type(model.image_encoder.img_size)

    def use_efficient_attention(self, model: nn.Module) -> bool:
        """Route the image encoder's attention through SDPA; True where it applies."""
        use_efficient_attention(model.image_encoder)
        return True

    def use_efficient_decoder(self) -> bool:
        """Decode box and point prompts without per-prompt image copies
        (:mod:`~mmsamrs.models.sam.efficient_decoder`); True where it applies."""
        self.efficient_decoder = True
        return True

    def compile_decoder(self, model: nn.Module) -> None:
        """``torch.compile`` the decoder that :meth:`decode` runs (dynamic shapes)."""
        if self.efficient_decoder:
            self.compiled_decoder = torch.compile(decode_single_mask, dynamic=True)
        self.decoder_module(model).compile(dynamic=True)

    @staticmethod
    def decoder_module(model: nn.Module) -> nn.Module:
        """The model's mask decoder module."""
        return model.mask_decoder

    def encode(self, model: nn.Module, inputs: Tensor) -> List[Any]:
        """One embedding per image of a preprocessed ``(B, 3, S, S)`` batch."""
        return list(model.image_encoder(inputs))

    def decode(self, model: nn.Module, embedding: Any, points: Optional[Tensor],
               point_labels: Optional[Tensor], boxes: Optional[Tensor],
               masks: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """Low-resolution logits ``(N, 1, 256, 256)`` and IoU ``(N,)`` of ``N`` prompts."""
        sparse, dense = model.prompt_encoder(
            points=None if points is None else (points, point_labels), boxes=boxes,
            masks=masks)
        image_pe = model.prompt_encoder.get_dense_pe()
        if self.efficient_decoder and masks is None:
            low_res, iou = (self.compiled_decoder or decode_single_mask)(
                model.mask_decoder, embedding[None], image_pe, sparse, dense[:1])
        else:
            low_res, iou = model.mask_decoder(
                image_embeddings=embedding[None], image_pe=image_pe,
                sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                multimask_output=False)
        return low_res, iou[:, 0]

    def postprocess(self, model: nn.Module, logits: Tensor, input_shape: Sequence[int],
                    ori_shape: Sequence[int], threshold: float) -> Crops:
        """Crops of ``Sam.postprocess_masks(logits, ...) > threshold``."""
        return postprocess_masks_cropped(logits, input_shape, ori_shape,
                                         model.image_encoder.img_size, threshold)


class HQSAMBackend(SAMBackend):
    """HQ-SAM (``segment_anything_hq``): SAM's ViT-B/L/H with the HQ mask decoder.

    ``arch`` is a released name or ``dict(backend='hq_sam', **vit_sizes)``. The decoder
    also reads the encoder's first global-attention block, and returns SAM's mask plus the
    HQ token's (``hq_token_only=False``, the package's default).
    """

    name = 'hq_sam'
    archs = {f'hq_{name}': VIT_SIZES[name] for name in ('vit_b', 'vit_l', 'vit_h')}
    checkpoints = {
        f'hq_{name}': f'https://huggingface.co/lkeab/hq-sam/resolve/main/sam_hq_{name}.pth'
        for name in ('vit_b', 'vit_l', 'vit_h')}

    def parse_arch(self, arch: Union[str, Dict]) -> Dict[str, Any]:
        """ViT sizes with ``backend='hq_sam'``."""
        return dict(backend=self.name, **super().parse_arch(arch))

    def build(self) -> nn.Module:
        """The model with random weights, from ``segment_anything_hq``'s builder."""
        with warnings.catch_warnings():  # its timm imports re-register timm's TinyViTs
            warnings.filterwarnings('ignore', 'Overwriting tiny_vit', UserWarning)
            warnings.filterwarnings('ignore', 'Importing from timm', FutureWarning)
            from segment_anything_hq.build_sam import _build_sam as build_hq_sam
        return build_hq_sam(**self._vit_args())

    def use_efficient_attention(self, model: nn.Module) -> bool:
        """Not available (the HQ encoder has its own attention class): False."""
        return False

    def use_efficient_decoder(self) -> bool:
        """Not available (the HQ decoder adds its own token and features): False."""
        return False

    def encode(self, model: nn.Module, inputs: Tensor) -> List[Any]:
        """Per image: the embedding and the first global block's features ``(h, w, C)``."""
        embeddings, interm = model.image_encoder(inputs)
        return list(zip(embeddings, interm[0]))

    def decode(self, model: nn.Module, embedding: Any, points: Optional[Tensor],
               point_labels: Optional[Tensor], boxes: Optional[Tensor],
               masks: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """As SAM, with the HQ decoder's extra input."""
        image_embedding, interm = embedding
        sparse, dense = model.prompt_encoder(
            points=None if points is None else (points, point_labels), boxes=boxes,
            masks=masks)
        low_res, iou = model.mask_decoder(
            image_embeddings=image_embedding[None],
            image_pe=model.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
            multimask_output=False, hq_token_only=False,
            interm_embeddings=interm[None, None])
        return low_res, iou[:, 0]


class SAM2Backend(SAMBackend):
    """SAM 2.1 (``sam2``) image prediction: Hiera-T/S/B+/L, square frame.

    ``arch`` is a released name (the ``sam2.1_hiera_*.yaml`` config shipped in ``sam2``) or
    ``dict(backend='sam2.1', config='sam2.1_hiera_t', trunk=dict(...))`` where ``trunk``
    overrides Hiera sizes (:data:`HIERA_KEYS`, the FPN neck follows ``embed_dim``), e.g.
    a tiny test model. Built by ``sam2.build_sam.build_sam2`` (with its image-prediction
    defaults); encoding and decoding follow ``SAM2ImagePredictor``: boxes enter as two
    points labelled 2 and 3 before the point prompts, and the logits are resized straight
    to the original size.
    """

    name = 'sam2.1'
    archs = {f'sam2.1_hiera_{size}': f'sam2.1_hiera_{size}' for size in ('t', 's', 'b+', 'l')}
    checkpoints = {
        f'sam2.1_hiera_{size}':
        f'https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_{file}.pt'
        for size, file in (('t', 'tiny'), ('s', 'small'), ('b+', 'base_plus'),
                           ('l', 'large'))}
    frame_type = SquareFrame

    def parse_arch(self, arch: Union[str, Dict]) -> Dict[str, Any]:
        """``dict(backend='sam2.1', config=<released name>, trunk=<overrides>)``."""
        if isinstance(arch, str):
            arch = dict(config=arch)
        unknown = set(arch) - {'backend', 'config', 'trunk'}
        trunk = dict(arch.get('trunk') or {})
        if unknown or arch.get('config') not in self.archs or set(trunk) - set(HIERA_KEYS):
            raise ValueError(
                f"a {self.name} arch dict is dict(backend='{self.name}', config=<one of "
                f'{tuple(self.archs)}>, trunk=<optional sizes among {HIERA_KEYS}>), got {arch}')
        trunk = {k: v if isinstance(v, int) else tuple(v) for k, v in sorted(trunk.items())}
        return dict(backend=self.name, config=arch['config'], trunk=trunk)

    def official_checkpoint(self) -> str:
        """URL of the official weights of the arch (a released config, no overrides)."""
        if self.arch['trunk']:
            raise ValueError(f"checkpoint='official' needs a released arch, but the arch "
                             f"overrides the trunk {self.arch['trunk']}; set "
                             'model.checkpoint to a weight file, or to None for random weights')
        return self.checkpoints[self.arch['config']]

    def build(self) -> nn.Module:
        """The model with random weights, from ``sam2``'s builder and shipped config."""
        from sam2.build_sam import build_sam2
        overrides = [f'++model.image_encoder.trunk.{key}={self._hydra(value)}'
                     for key, value in self.arch['trunk'].items()]
        if 'embed_dim' in self.arch['trunk']:
            dim = self.arch['trunk']['embed_dim']
            overrides.append('++model.image_encoder.neck.backbone_channel_list='
                             + self._hydra([dim * 8, dim * 4, dim * 2, dim]))
        return build_sam2(f"configs/sam2.1/{self.arch['config']}.yaml", None, device='cpu',
                          hydra_overrides_extra=overrides)

    @staticmethod
    def _hydra(value: Union[int, Sequence[int]]) -> str:
        """A size as a hydra override value."""
        return str(value) if isinstance(value, int) else f"[{','.join(map(str, value))}]"

    @staticmethod
    def decoder_module(model: nn.Module) -> nn.Module:
        """SAM 2's mask decoder module."""
        return model.sam_mask_decoder

    def frame(self, model: nn.Module) -> InputFrame:
        """The square frame of side ``model.image_size``."""
        return self.frame_type(model.image_size)

    def use_efficient_attention(self, model: nn.Module) -> bool:
        """Not needed (Hiera already uses ``scaled_dot_product_attention``): False."""
        return False

    def use_efficient_decoder(self) -> bool:
        """Not available (SAM 2's decoder adds high-resolution features and an object
        score token): False."""
        return False

    def encode(self, model: nn.Module, inputs: Tensor) -> List[Any]:
        """Per image: the image embedding and the two high-resolution feature maps."""
        backbone_out = model.forward_image(inputs)
        _, feats, _, sizes = model._prepare_backbone_features(backbone_out)
        if model.directly_add_no_mem_embed:
            feats[-1] = feats[-1] + model.no_mem_embed
        maps = [feat.permute(1, 2, 0).reshape(len(inputs), -1, *size)
                for feat, size in zip(feats, sizes)]
        return [(maps[-1][i], [level[i] for level in maps[:-1]]) for i in range(len(inputs))]

    def decode(self, model: nn.Module, embedding: Any, points: Optional[Tensor],
               point_labels: Optional[Tensor], boxes: Optional[Tensor],
               masks: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """As ``SAM2ImagePredictor._predict`` (single-mask output)."""
        image_embedding, high_res = embedding
        coords, labels = [], []
        if boxes is not None:
            coords.append(boxes.reshape(-1, 2, 2))
            labels.append(torch.tensor([[2, 3]], dtype=torch.int,
                                       device=boxes.device).repeat(len(boxes), 1))
        if points is not None:
            coords.append(points)
            labels.append(point_labels.int())
        sparse, dense = model.sam_prompt_encoder(
            points=(torch.cat(coords, 1), torch.cat(labels, 1)) if coords else None,
            boxes=None, masks=masks)
        low_res, iou, _, _ = model.sam_mask_decoder(
            image_embeddings=image_embedding[None],
            image_pe=model.sam_prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
            multimask_output=False, repeat_image=True,
            high_res_features=[level[None] for level in high_res])
        return low_res, iou[:, 0]

    def postprocess(self, model: nn.Module, logits: Tensor, input_shape: Sequence[int],
                    ori_shape: Sequence[int], threshold: float) -> Crops:
        """Crops of ``SAM2Transforms.postprocess_masks(logits, ori_shape) > threshold``."""
        return resize_masks_cropped(logits, ori_shape, threshold)


#: The model families, in documentation order.
BACKENDS: Tuple[Type[SAMBackend], ...] = (SAMBackend, HQSAMBackend, SAM2Backend)
#: Every released ``model.arch`` name.
ARCHS = tuple(name for backend in BACKENDS for name in backend.archs)


def build_backend(arch: Union[str, Dict]) -> SAMBackend:
    """The backend of ``arch``: a released name (:data:`ARCHS`) or a dict, whose
    ``backend`` key (``'sam'`` when absent, ``'hq_sam'``, ``'sam2.1'``) names the family.

    Raises:
        ValueError: an unknown name or family, or a dict the family does not accept.
    """
    if isinstance(arch, str):
        backend = next((b for b in BACKENDS if arch in b.archs), None)
        if backend is None:
            raise ValueError(f'unknown SAM arch {arch!r}; use one of {ARCHS} or a dict '
                             '(see mmsamrs.models.sam.backends)')
        return backend(arch)
    families = {backend.name: backend for backend in BACKENDS}
    family = arch.get('backend', SAMBackend.name)
    if family not in families:
        raise ValueError(f'unknown SAM backend {family!r} in arch {dict(arch)}; use one of '
                         f'{tuple(families)}')
    return families[family](arch)
