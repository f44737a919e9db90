"""Segment Anything as a registered mmengine model for label generation."""
import contextlib
from typing import ContextManager, Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import load_checkpoint
from mmengine.structures import BaseDataElement
from segment_anything.build_sam import _build_sam, sam_model_registry
from segment_anything.modeling import Sam
from torch import Tensor

from mmsamrs.registry import MODELS
from .postprocess import postprocess_masks_cropped

#: The released SAM variants (official sizes from ``segment_anything.sam_model_registry``).
SAM_ARCHS = ('vit_b', 'vit_l', 'vit_h')
#: Keys of an encoder-size ``arch`` dict (``_build_sam``'s ``encoder_*`` arguments).
ENCODER_KEYS = ('embed_dim', 'depth', 'num_heads', 'global_attn_indexes')
#: Autocast dtype of each ``precision`` (fp32: no autocast).
PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def build_sam(arch: Union[str, Dict]) -> Sam:
    """Build SAM with random weights with ``segment_anything``'s own builders.

    ``arch`` is a released variant (``'vit_b'``, ``'vit_l'``, ``'vit_h'``) or a dict of
    image-encoder sizes with the keys :data:`ENCODER_KEYS`, e.g. a tiny test encoder
    ``dict(embed_dim=64, depth=2, num_heads=2, global_attn_indexes=(1,))``; everything
    else (1024 input, 16 px patches, 256-d prompt embedding, mask decoder) is SAM's.
    """
    if isinstance(arch, str):
        if arch not in SAM_ARCHS:
            raise ValueError(f'unknown SAM arch {arch!r}; use one of {SAM_ARCHS} or a dict '
                             f'with the keys {ENCODER_KEYS}')
        return sam_model_registry[arch]()
    if set(arch) != set(ENCODER_KEYS):
        raise ValueError(f'a SAM arch dict needs exactly the keys {ENCODER_KEYS}, '
                         f'got {sorted(arch)}')
    return _build_sam(
        encoder_embed_dim=arch['embed_dim'],
        encoder_depth=arch['depth'],
        encoder_num_heads=arch['num_heads'],
        encoder_global_attn_indexes=list(arch['global_attn_indexes']))


@MODELS.register_module()
class SAMGenerator(BaseModel):
    """SAM segmenting every prompted instance of a batch of images (label generation).

    ``test_step`` runs the image encoder once for the whole batch, then, per image,
    all its prompts through the prompt encoder and the mask decoder in chunks of
    ``prompt_chunk_size`` (``multimask_output=False``: one mask per prompt, with SAM's
    predicted IoU as score), and turns the low-resolution logits into tight mask crops
    in the original frame (:func:`postprocess_masks_cropped`, equal to SAM's
    full-resolution post-processing). Samples whose image failed to load
    (``load_error``) skip SAM and come back with their error and no instances.
    ``predict`` is :meth:`embed` then :meth:`decode`; called separately, several prompt
    sets of the same images share one encoder pass (the prompt study).

    Inputs come from ``PackSAMInputs`` through :class:`SAMDataPreprocessor`. Each result
    is a dict: ``img_id``, ``img_path``, ``ori_shape`` ``(H, W)``, ``error`` (``None``
    or the load error), ``labels`` int64 ``(N,)``, ``scores`` float32 ``(N,)``,
    ``hboxes`` float32 ``(N, 4)``, ``rboxes`` float32 ``(N, 5)`` or ``None``,
    ``mask_crops`` (``N`` boolean arrays; ``0 x 0`` for an empty mask) and
    ``mask_offsets`` int64 ``(N, 2)`` (``x0, y0`` of each crop).

    Config::

        model = dict(
            type='SAMGenerator',
            arch='vit_h',
            checkpoint='https://dl.fbaipublicfiles.com/segment_anything/'
                       'sam_vit_h_4b8939.pth',
            prompt_chunk_size=64,
            precision='bf16',
            data_preprocessor=dict(type='SAMDataPreprocessor'))

    Args:
        arch: ``'vit_b'``, ``'vit_l'``, ``'vit_h'`` or a dict of encoder sizes (see
            :func:`build_sam`).
        checkpoint: ``None`` (random weights), a local path or an http(s) URL (downloaded
            once into the torch hub cache). The official ``.pth`` files (raw state dicts)
            and mmengine checkpoints of this model (``state_dict`` with ``sam.`` keys)
            both load; every weight must match.
        prompt_chunk_size: most prompts per mask-decoder call (bounds memory).
        precision: ``'fp32'``, ``'fp16'`` or ``'bf16'``: autocast dtype of the encoder and
            decoder (post-processing is always float32).
        mask_threshold: threshold on the mask logits (SAM's 0.0).
        data_preprocessor: config or module; default ``SAMDataPreprocessor``.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 arch: Union[str, Dict] = 'vit_h',
                 checkpoint: Optional[str] = None,
                 prompt_chunk_size: int = 64,
                 precision: str = 'fp32',
                 mask_threshold: float = 0.0,
                 data_preprocessor: Optional[Union[Dict, torch.nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if isinstance(data_preprocessor, dict) or data_preprocessor is None:
            data_preprocessor = MODELS.build(data_preprocessor
                                             or dict(type='SAMDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if precision not in PRECISIONS:
            raise ValueError(f'precision must be one of {tuple(PRECISIONS)}, got {precision!r}')
        if prompt_chunk_size < 1:
            raise ValueError(f'prompt_chunk_size must be positive, got {prompt_chunk_size}')
        self.sam = build_sam(arch)
        if checkpoint is not None:
            load_checkpoint(self.sam, checkpoint, map_location='cpu', strict=True,
                            revise_keys=[(r'^module\.', ''), (r'^sam\.', '')])
        self.prompt_chunk_size = prompt_chunk_size
        self.precision = precision
        self.mask_threshold = mask_threshold

    def autocast(self, device: torch.device) -> ContextManager:
        """Autocast context of ``precision`` on ``device`` (none for fp32)."""
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=dtype)

    def forward(self,
                inputs: Tensor,
                data_samples: List[BaseDataElement],
                mode: str = 'predict') -> List[dict]:
        """Only inference exists (``mode='predict'``); see :meth:`predict`."""
        if mode != 'predict':
            raise ValueError(f"SAMGenerator only predicts (mode='predict'), got mode={mode!r}")
        return self.predict(inputs, data_samples)

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples: List[BaseDataElement]) -> List[dict]:
        """Masks for every prompt of a preprocessed batch; one result dict per image."""
        return self.decode(self.embed(inputs, data_samples), data_samples)

    @torch.no_grad()
    def embed(self, inputs: Tensor,
              data_samples: List[BaseDataElement]) -> List[Optional[Tensor]]:
        """Image embeddings of a preprocessed batch, one image-encoder pass for the batch.

        ``None`` for samples whose image failed to load (``load_error``). The embeddings
        can be decoded with several prompt sets of the same images (:meth:`decode`), which
        is how the prompt study costs one encoder pass per image for all its settings.
        """
        valid = [i for i, s in enumerate(data_samples) if s.metainfo.get('load_error') is None]
        embeddings: List[Optional[Tensor]] = [None] * len(data_samples)
        if valid:
            with self.autocast(inputs.device):
                encoded = self.sam.image_encoder(
                    inputs if len(valid) == len(inputs) else inputs[valid])
            for i, embedding in zip(valid, encoded):
                embeddings[i] = embedding
        return embeddings

    @torch.no_grad()
    def decode(self, embeddings: List[Optional[Tensor]],
               data_samples: List[BaseDataElement]) -> List[dict]:
        """One result dict per sample: its prompts decoded from its image's embedding.

        ``embeddings`` come from :meth:`embed` for the same images (``None``: the image
        failed to load, the result carries the error and no instances).
        """
        if len(embeddings) != len(data_samples):
            raise ValueError(f'{len(embeddings)} embeddings for {len(data_samples)} samples')
        return [
            self.failed(sample) if embedding is None else self.segment(embedding, sample)
            for embedding, sample in zip(embeddings, data_samples)
        ]

    @torch.no_grad()
    def segment(self, embedding: Tensor, sample: BaseDataElement) -> dict:
        """Decode all prompts of one image (chunked) and post-process them to crops."""
        num = len(sample.labels)
        points = sample.get('prompt_points')
        boxes = sample.get('prompt_boxes')
        masks = sample.get('prompt_masks')
        point_labels = sample.get('prompt_point_labels')
        prompts = [p for p in (points, boxes, masks) if p is not None]
        if num and not prompts:
            raise ValueError(f'{sample.img_path}: {num} instances but no prompts')
        if any(len(p) != num for p in prompts):
            raise ValueError(f'{sample.img_path}: prompt counts {[len(p) for p in prompts]} '
                             f'differ from the {num} instances')
        crops: List[np.ndarray] = []
        offsets, scores = [], []
        dense_pe = self.sam.prompt_encoder.get_dense_pe()
        for start in range(0, num, self.prompt_chunk_size):
            chunk = slice(start, start + self.prompt_chunk_size)
            with self.autocast(embedding.device):
                sparse, dense = self.sam.prompt_encoder(
                    points=None if points is None else (points[chunk], point_labels[chunk]),
                    boxes=None if boxes is None else boxes[chunk],
                    masks=None if masks is None else masks[chunk])
                low_res, iou = self.sam.mask_decoder(
                    image_embeddings=embedding[None],
                    image_pe=dense_pe,
                    sparse_prompt_embeddings=sparse,
                    dense_prompt_embeddings=dense,
                    multimask_output=False)
            chunk_crops, chunk_offsets = postprocess_masks_cropped(
                low_res, sample.sam_input_shape, sample.ori_shape,
                self.sam.image_encoder.img_size, self.mask_threshold)
            crops += chunk_crops
            offsets.append(chunk_offsets)
            scores.append(iou[:, 0].float())
        return self._result(
            sample, None,
            scores=torch.cat(scores).cpu().numpy() if scores else np.zeros(0, np.float32),
            mask_crops=crops,
            mask_offsets=np.concatenate(offsets) if offsets else np.zeros((0, 2), np.int64))

    def failed(self, sample: BaseDataElement) -> dict:
        """The result of a sample whose image could not be loaded: no instances."""
        return self._result(
            sample, sample.metainfo['load_error'],
            labels=np.zeros(0, np.int64), scores=np.zeros(0, np.float32),
            hboxes=np.zeros((0, 4), np.float32), rboxes=None, mask_crops=[],
            mask_offsets=np.zeros((0, 2), np.int64))

    @staticmethod
    def _result(sample: BaseDataElement, error: Optional[str], **fields) -> dict:
        """A result dict: the sample's identity and instances, overridden by ``fields``."""
        rboxes = sample.get('rboxes')
        result = dict(
            img_id=sample.img_id,
            img_path=sample.img_path,
            ori_shape=tuple(int(v) for v in sample.ori_shape),
            error=error,
            labels=sample.labels.cpu().numpy().astype(np.int64),
            hboxes=sample.hboxes.cpu().numpy().astype(np.float32),
            rboxes=None if rboxes is None else rboxes.cpu().numpy().astype(np.float32))
        result.update(fields)
        return result
