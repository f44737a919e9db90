"""Memory-efficient attention for SAM's image encoder (``model.efficient_attention``).

``segment_anything``'s ``Attention.forward`` materialises the full attention matrix three
times (``q @ k^T``, plus the decomposed relative-position bias, then its softmax): in a
global-attention block of ViT-B on a 1024 input that is 12 heads x 4096 x 4096 floats,
about 0.8 GB per image and copy in fp32. :func:`sdpa_attention_forward` computes the same
function with :func:`torch.nn.functional.scaled_dot_product_attention`, which never holds
the attention matrix; SAM's decomposed bias goes in as its additive float ``attn_mask``,
built for at most :data:`MAX_BIAS_ELEMENTS` query-key pairs at a time (query rows in
chunks), so the memory of a block no longer grows with the square of its token count.

:func:`use_efficient_attention` swaps the forward of each ``Attention`` module of a built
model (instance attribute, not a change of the class and not a fork of the package):
weights, state dict and checkpoints are unchanged, and other SAM models in the process keep
the original forward.
"""
import types
from typing import Tuple

import torch
import torch.nn.functional as F
from segment_anything.modeling.image_encoder import Attention, get_rel_pos
from torch import Tensor, nn

#: Most query-key pairs (summed over images and heads) whose bias is built at once:
#: 2**26 floats are 256 MiB in fp32; a ViT-B global block of one 1024 image takes 4 chunks.
MAX_BIAS_ELEMENTS = 2**26


def decomposed_rel_pos_bias(attn: Attention, q: Tensor,
                            size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    """SAM's decomposed relative-position terms ``(rel_h, rel_w)`` of ``q``.

    ``q`` is ``(B * heads, H * W, C)``; ``rel_h`` is ``(B * heads, H * W, H)`` and
    ``rel_w`` ``(B * heads, H * W, W)``: the bias of query ``i`` and key ``(kh, kw)`` is
    ``rel_h[:, i, kh] + rel_w[:, i, kw]`` (``add_decomposed_rel_pos`` of
    ``segment_anything``, before it is broadcast to the full matrix).
    """
    height, width = size
    rel_pos_h = get_rel_pos(height, height, attn.rel_pos_h)
    rel_pos_w = get_rel_pos(width, width, attn.rel_pos_w)
    r_q = q.reshape(q.shape[0], height, width, q.shape[-1])
    rel_h = torch.einsum('bhwc,hkc->bhwk', r_q, rel_pos_h.to(q.dtype))
    rel_w = torch.einsum('bhwc,wkc->bhwk', r_q, rel_pos_w.to(q.dtype))
    tokens = height * width
    return rel_h.reshape(-1, tokens, height), rel_w.reshape(-1, tokens, width)


def sdpa_attention_forward(self: Attention, x: Tensor) -> Tensor:
    """``Attention.forward`` of ``segment_anything`` through scaled-dot-product attention.

    The same function of ``x`` (``(B, H, W, dim)``) and the module's weights as the
    original, within float rounding.
    """
    batch, height, width, _ = x.shape
    tokens = height * width
    qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)  # (B, heads, H * W, C) each
    if not self.use_rel_pos:
        out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
    else:
        rel_h, rel_w = decomposed_rel_pos_bias(
            self, q.reshape(batch * self.num_heads, tokens, -1), (height, width))
        rows = max(1, MAX_BIAS_ELEMENTS // (batch * self.num_heads * tokens))
        chunks = []
        for start in range(0, tokens, rows):
            part = slice(start, start + rows)
            bias = rel_h[:, part, :, None] + rel_w[:, part, None, :]
            bias = bias.reshape(batch, self.num_heads, -1, tokens)
            chunks.append(F.scaled_dot_product_attention(
                q[:, :, part], k, v, attn_mask=bias.to(q.dtype), scale=self.scale))
        out = torch.cat(chunks, dim=2) if len(chunks) > 1 else chunks[0]
    out = out.reshape(batch, self.num_heads, height, width, -1).permute(0, 2, 3, 1, 4)
    return self.proj(out.reshape(batch, height, width, -1))


def use_efficient_attention(model: nn.Module) -> int:
    """Give every ``segment_anything`` ``Attention`` module in ``model`` the SDPA forward.

    Returns how many modules were switched. Only these instances change; the class and
    other models keep ``segment_anything``'s forward.
    """
    attentions = [m for m in model.modules() if isinstance(m, Attention)]
    for module in attentions:
        module.forward = types.MethodType(sdpa_attention_forward, module)
    return len(attentions)
