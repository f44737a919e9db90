"""Segment Anything as a registered mmengine model for label generation."""
import contextlib
import logging
from typing import Any, ContextManager, Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import load_state_dict
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from mmsamrs.registry import MODELS
from .backends import ARCHS, BACKENDS, build_backend
from .precision import PRECISION_CHOICES, PRECISIONS, resolve_precision
from .weights import load_sam_weights

#: Every released ``model.arch`` name (SAM, HQ-SAM, SAM 2.1).
SAM_ARCHS = ARCHS
#: Official weights of each released variant (``checkpoint='official'``).
SAM_CHECKPOINTS = {name: url for backend in BACKENDS for name, url in backend.checkpoints.items()}
RANDOM_WEIGHTS_WARNING = (
    'SAM has random weights (model.checkpoint=None): its masks are meaningless and only '
    "good for tests and demos; set model.checkpoint='official' (or a weight file) for "
    'real labels')


def encoder_sizes(arch: Union[str, Dict]) -> Dict[str, Any]:
    """The canonical form of ``arch`` (a released name or a dict; see
    :mod:`~mmsamrs.models.sam.backends`): for SAM the image-encoder sizes.

    Raises:
        ValueError: an unknown name, or a dict its family does not accept.
    """
    return build_backend(arch).arch


def official_checkpoint(arch: Union[str, Dict]) -> str:
    """URL of the official weights of ``arch`` (a released variant, by name or sizes)."""
    return build_backend(arch).official_checkpoint()


def build_sam(arch: Union[str, Dict]) -> nn.Module:
    """Build the model of ``arch`` with random weights with its package's own builder.

    ``arch`` is a released name (:data:`SAM_ARCHS`) or a dict: SAM's image-encoder sizes,
    e.g. a tiny test encoder ``dict(embed_dim=64, depth=2, num_heads=2,
    global_attn_indexes=(1,))``, or another family's (see
    :func:`~mmsamrs.models.sam.backends.build_backend`).
    """
    return build_backend(arch).build()


@MODELS.register_module()
class SAMGenerator(BaseModel):
    """SAM segmenting every prompted instance of a batch of images (label generation).

    The model is SAM (ViT-B/L/H), HQ-SAM (ViT-B/L/H) or SAM 2.1 (Hiera-T/S/B+/L), chosen
    by ``arch`` and built by its package's own builder; what differs between them lives
    in a backend (:mod:`~mmsamrs.models.sam.backends`), the rest is shared.
    ``test_step`` runs the image encoder once for the whole batch, then, per image,
    all its prompts through the prompt encoder and the mask decoder in chunks of
    ``prompt_chunk_size`` (``multimask_output=False``: one mask per prompt, with the
    model's predicted IoU as score), and turns the low-resolution logits into tight mask
    crops in the original frame (equal to the family's full-resolution post-processing,
    e.g. :func:`~mmsamrs.models.sam.postprocess.postprocess_masks_cropped` for SAM).
    Prompts come in the model's input frame (:attr:`frame`: SAM's longest-side resize,
    SAM 2's square resize; ``SAMPrompts(frame=...)``), and the data preprocessor is built
    with the same frame. Samples whose image failed to load
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
            checkpoint='official',
            prompt_chunk_size=4,
            precision='auto',
            efficient_attention=True,
            efficient_decoder=True,
            data_preprocessor=dict(type='SAMDataPreprocessor'))

    Args:
        arch: a released name (:data:`SAM_ARCHS`: ``'vit_b'``, ``'vit_l'``, ``'vit_h'``,
            ``'hq_vit_b'``, ``'hq_vit_l'``, ``'hq_vit_h'``, ``'sam2.1_hiera_t'``,
            ``'sam2.1_hiera_s'``, ``'sam2.1_hiera_b+'``, ``'sam2.1_hiera_l'``) or a dict
            (SAM encoder sizes, see :func:`build_sam`, or another family's).
        checkpoint: ``'official'`` (the released weights of ``arch``), ``None`` (random
            weights, with a warning that the masks are meaningless), a local path or an
            http(s) URL (downloaded once into the torch hub cache). The official files
            (SAM and HQ-SAM: raw state dicts; SAM 2: ``{'model': ...}``) and mmengine
            checkpoints of this model (``state_dict`` with ``sam.`` keys) load; every
            weight must match. Read with ``weights_only=True``: a file holding pickled
            objects is refused (:func:`~mmsamrs.models.sam.weights.load_sam_weights`).
        prompt_chunk_size: most prompts per mask-decoder call. Each prompt's image side
            takes ~4 MiB per tensor in fp32 (~25 MiB in SAM's own decoder, which copies the
            image embedding per prompt), so this bounds memory; on a CPU small calls keep
            those tensors in cache: 4 per call was the fastest of 1 to 16 (about 0.7x the
            time per prompt of 16; docs/en/benchmarks.md). On a GPU larger calls (64) use
            the device better.
        precision: ``'auto'``, ``'fp32'``, ``'fp16'`` or ``'bf16'``: autocast dtype of the
            encoder and decoder (post-processing is always float32). ``'auto'`` is bf16
            where the device computes it natively, else fp32 (see
            :func:`~mmsamrs.models.sam.precision.resolve_precision`); the choice and its
            reason are logged at the first batch.
        efficient_attention: run SAM's ViT attention through
            ``scaled_dot_product_attention`` (same result, no attention matrix held; see
            :mod:`~mmsamrs.models.sam.efficient_attention`); False keeps
            ``segment_anything``'s own forward. Only SAM has it (HQ-SAM keeps its own
            forward, SAM 2's Hiera already uses SDPA); :attr:`efficient_attention` says
            whether it applies.
        efficient_decoder: decode box and point prompts with
            :func:`~mmsamrs.models.sam.efficient_decoder.decode_single_mask`: the same
            function of SAM's decoder weights (within float rounding), without copying the
            image embedding per prompt and with the image-side attention projections
            folded into the prompt tokens. Mask prompts take the package's own decoder.
            Only SAM has it; :attr:`efficient_decoder` says whether it applies.
        compile_decoder: ``torch.compile`` the decoder that runs (the efficient one for
            box and point prompts, the package's module otherwise; inductor, dynamic
            shapes, so chunks of any size share one compiled graph). The first calls
            compile it (tens of seconds of CPU time); what it gains per prompt is in
            docs/en/benchmarks.md. Masks equal the eager ones up to float rounding. Off by
            default.
        mask_threshold: threshold on the mask logits (SAM's 0.0).
        data_preprocessor: config or module; default ``SAMDataPreprocessor``.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 arch: Union[str, Dict] = 'vit_h',
                 checkpoint: Optional[str] = None,
                 prompt_chunk_size: int = 4,
                 precision: str = 'auto',
                 efficient_attention: bool = True,
                 efficient_decoder: bool = True,
                 compile_decoder: bool = False,
                 mask_threshold: float = 0.0,
                 data_preprocessor: Optional[Union[Dict, torch.nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if precision not in PRECISION_CHOICES:
            raise ValueError(f'precision must be one of {PRECISION_CHOICES}, got {precision!r}')
        if prompt_chunk_size < 1:
            raise ValueError(f'prompt_chunk_size must be positive, got {prompt_chunk_size}')
        backend = build_backend(arch)
        sam = backend.build()
        frame = backend.frame(sam)
        if isinstance(data_preprocessor, dict) or data_preprocessor is None:
            data_preprocessor = MODELS.build(
                dict(dict(type='SAMDataPreprocessor', frame=frame.name, img_size=frame.size),
                     **(data_preprocessor or {})))
        preprocessor_frame = getattr(data_preprocessor, 'frame', frame)
        if (preprocessor_frame.name, preprocessor_frame.size) != (frame.name, frame.size):
            raise ValueError(f'arch {arch} takes its input in the {frame} frame, but the '
                             f'data preprocessor resizes into {preprocessor_frame}; leave '
                             "the preprocessor's frame and img_size unset")
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backend = backend
        self.sam = sam
        self.frame = frame
        self.arch = self.backend.arch
        if checkpoint == 'official':
            checkpoint = self.backend.official_checkpoint()
        if checkpoint is None:
            print_log(RANDOM_WEIGHTS_WARNING, logger='current', level=logging.WARNING)
        else:
            load_state_dict(self.sam, load_sam_weights(checkpoint), strict=True)
        self.efficient_attention = (efficient_attention
                                    and self.backend.use_efficient_attention(self.sam))
        self.efficient_decoder = efficient_decoder and self.backend.use_efficient_decoder()
        if compile_decoder:
            self.backend.compile_decoder(self.sam)
        self.compile_decoder = compile_decoder
        self.prompt_chunk_size = prompt_chunk_size
        self.precision = precision
        self._resolved: Dict[tuple, str] = {}
        self.mask_threshold = mask_threshold

    def precision_on(self, device: torch.device) -> str:
        """The precision that runs on ``device`` (``'auto'`` resolved; logged once)."""
        key = (self.precision, device.type)
        if key not in self._resolved:
            name, reason = resolve_precision(self.precision, device)
            print_log(f'SAM runs in {name} on {device.type} ({reason})', logger='current')
            self._resolved[key] = name
        return self._resolved[key]

    def settings(self) -> Dict[str, Any]:
        """What decides the masks besides the weights, for pinning a generation run.

        Encoder sizes, the precision that runs on the model's device, the attention
        implementation (last float bits), prompt chunking, mask threshold and the input
        preprocessing.
        """
        preprocessor = self.data_preprocessor
        return dict(
            type=type(self).__name__, arch=self.arch,
            precision=self.precision_on(next(self.sam.parameters()).device),
            efficient_attention=self.efficient_attention,
            efficient_decoder=self.efficient_decoder,
            compile_decoder=self.compile_decoder, prompt_chunk_size=self.prompt_chunk_size,
            mask_threshold=self.mask_threshold,
            preprocessor=dict(type=type(preprocessor).__name__,
                              frame=self.frame.name,
                              img_size=getattr(preprocessor, 'img_size', None),
                              mean=preprocessor.mean.flatten().tolist(),
                              std=preprocessor.std.flatten().tolist(),
                              bgr_to_rgb=getattr(preprocessor, 'bgr_to_rgb', None)))

    def autocast(self, device: torch.device) -> ContextManager:
        """Autocast context of the precision on ``device`` (none for fp32)."""
        dtype = PRECISIONS[self.precision_on(device)]
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
              data_samples: List[BaseDataElement]) -> List[Optional[Any]]:
        """Image embeddings of a preprocessed batch, one image-encoder pass for the batch.

        ``None`` for samples whose image failed to load (``load_error``). The embeddings
        can be decoded with several prompt sets of the same images (:meth:`decode`), which
        is how the prompt study costs one encoder pass per image for all its settings.
        """
        valid = [i for i, s in enumerate(data_samples) if s.metainfo.get('load_error') is None]
        embeddings: List[Optional[Any]] = [None] * len(data_samples)
        if valid:
            with self.autocast(inputs.device):
                encoded = self.backend.encode(
                    self.sam, inputs if len(valid) == len(inputs) else inputs[valid])
            for i, embedding in zip(valid, encoded):
                embeddings[i] = embedding
        return embeddings

    @torch.no_grad()
    def decode(self, embeddings: List[Optional[Any]],
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
    def segment(self, embedding: Any, sample: BaseDataElement) -> dict:
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
        device = next(self.sam.parameters()).device
        for start in range(0, num, self.prompt_chunk_size):
            chunk = slice(start, start + self.prompt_chunk_size)
            with self.autocast(device):
                low_res, iou = self.backend.decode(
                    self.sam, embedding,
                    points=None if points is None else points[chunk],
                    point_labels=None if points is None else point_labels[chunk],
                    boxes=None if boxes is None else boxes[chunk],
                    masks=None if masks is None else masks[chunk])
            chunk_crops, chunk_offsets = self.backend.postprocess(
                self.sam, low_res, sample.sam_input_shape, sample.ori_shape,
                self.mask_threshold)
            crops += chunk_crops
            offsets.append(chunk_offsets)
            scores.append(iou.float())
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
