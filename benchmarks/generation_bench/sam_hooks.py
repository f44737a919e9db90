"""SAM for the benchmark: building, autocast, warm-up, stage timers on SAM's modules and
the object-shaped masks of ``--masks box``."""
import contextlib
import threading

from .timing import StageTimer


def build_arch(arch: str):
    """SAM with random weights via the package's builder (``tiny``: the tests' tiny
    encoder, :data:`mmsamrs.testing.TINY_SAM_ARCH`)."""
    from mmsamrs.models.sam import build_sam
    from mmsamrs.testing import TINY_SAM_ARCH
    return build_sam(TINY_SAM_ARCH if arch == 'tiny' else arch)


def autocast(device: str, precision: str):
    """Autocast context of ``precision`` (a resolved one, not ``'auto'``; none for fp32),
    as ``SAMGenerator`` uses."""
    import torch

    from mmsamrs.models.sam.precision import PRECISIONS
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=dtype)


def warm_up(sam, device: str, precision: str) -> None:
    """One untimed encoder pass and one decoder call (kernel selection, allocator)."""
    import torch
    size = sam.image_encoder.img_size
    with torch.no_grad(), autocast(device, precision):
        emb = sam.image_encoder(torch.zeros(1, 3, size, size, device=device))
        box = torch.tensor([[100., 100., 300., 300.]], device=device)
        sparse, dense = sam.prompt_encoder(points=None, boxes=box, masks=None)
        sam.mask_decoder(image_embeddings=emb, image_pe=sam.prompt_encoder.get_dense_pe(),
                         sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                         multimask_output=False)
    settle(device)


def warm_up_generator(model, device: str) -> None:
    """:func:`warm_up` through a ``SAMGenerator``'s backend (any family: SAM, HQ-SAM,
    SAM 2.1)."""
    import torch
    size = model.frame.size
    with torch.no_grad(), model.autocast(torch.device(device)):
        (embedding, ) = model.backend.encode(
            model.sam, torch.zeros(1, 3, size, size, device=device))
        box = torch.tensor([[100., 100., 300., 300.]], device=device)
        model.backend.decode(model.sam, embedding, None, None, box, None)
    settle(device)


def settle(device: str) -> None:
    """Wait for the device and reset its peak-memory counter."""
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def instrument_model(timer: StageTimer, sync: bool) -> None:
    """Time SAM's own modules (the same classes in both variants) and ours' efficient
    decoder (:func:`mmsamrs.models.sam.efficient_decoder.decode_single_mask`)."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder

    from mmsamrs.models.sam import backends
    timer.wrap(ImageEncoderViT, 'forward', 'encoder', sync)
    timer.wrap(PromptEncoder, 'forward', 'decoder', sync)
    timer.wrap(MaskDecoder, 'forward', 'decoder', sync)
    timer.wrap(backends, 'decode_single_mask', 'decoder', sync)


def box_logits(boxes, like, img_size: int = 1024):
    """Object-shaped low-resolution logits: positive inside the ellipse inscribed in each
    prompt box (``boxes`` ``(N, 4)`` xyxy in SAM's input frame), shaped like ``like``
    ``(N, 1, h, w)``; smooth, so that the masks have real boundaries."""
    import torch
    num, _, height, width = like.shape
    b = boxes.reshape(num, 4).float()
    factor = img_size / height
    ys = (torch.arange(height, device=b.device) + 0.5) * factor
    xs = (torch.arange(width, device=b.device) + 0.5) * factor
    centre = (b[:, :2] + b[:, 2:]) / 2
    radius = ((b[:, 2:] - b[:, :2]) / 2).clamp(min=factor / 2)
    u = (xs[None] - centre[:, :1]) / radius[:, :1]
    v = (ys[None] - centre[:, 1:]) / radius[:, 1:]
    logits = 8 * (1 - v[:, :, None]**2 - u[:, None, :]**2)
    return logits[:, None].to(like.dtype)


def install_box_masks(timer: StageTimer) -> None:
    """``--masks box``: after the real (timed) mask decoder, replace its logits by
    :func:`box_logits` of the prompt boxes, in both variants alike. A SAM with random
    weights paints every mask over most of the image, which no real SAM does; this keeps
    the model's cost real and gives post-processing, painting, RLE and writing masks of
    real objects' sizes. The substitution is timed as its own stage and left out. Both
    decoders are covered: ``MaskDecoder.forward`` and ours' efficient one."""
    from segment_anything.modeling import MaskDecoder, PromptEncoder

    from mmsamrs.models.sam import backends
    local = threading.local()
    encode = PromptEncoder.forward

    def prompt_forward(module, points=None, boxes=None, masks=None):
        local.boxes = boxes
        return encode(module, points, boxes, masks)

    def substituted(decode):
        def decoder(*args, **kwargs):
            low_res, iou = decode(*args, **kwargs)
            if getattr(local, 'boxes', None) is None:
                raise RuntimeError('--masks box needs box prompts')
            with timer.section('substitute'):
                low_res = box_logits(local.boxes, low_res)
            return low_res, iou
        return decoder

    PromptEncoder.forward = prompt_forward
    MaskDecoder.forward = substituted(MaskDecoder.forward)
    backends.decode_single_mask = substituted(backends.decode_single_mask)


def setup_model_timing(timer: StageTimer, device: str, masks: str) -> None:
    """Timers on SAM's modules, then (``masks='box'``) the object-shaped logits."""
    instrument_model(timer, device == 'cuda')
    if masks == 'box':
        install_box_masks(timer)
