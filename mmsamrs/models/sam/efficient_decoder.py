"""SAM's mask decoder without per-prompt copies of the image (``model.efficient_decoder``).

``segment_anything``'s ``MaskDecoder.predict_masks`` repeats the image embedding and its
positional encoding once per prompt, runs the two-way transformer's image-side
projections (``4096 x 256 -> 128`` matrices) on every copy, and upscales four masks per
prompt before keeping one. On a CPU that makes the decoder memory-bound and, with many
boxes per image, as costly as a ViT-B image encoder. :func:`decode_single_mask` computes
the same function of the same weights (``multimask_output=False``: the first mask and its
IoU) with less work, by exact algebra only:

* **Shared image.** With box and point prompts the dense prompt embedding is one vector
  for every prompt, so until the first image-to-token attention the image side is the
  same for all prompts: the first block runs on one ``(H*W, C)`` image (broadcast, not
  copied) and its projections are computed once per call.
* **Projections folded into the tokens.** An attention between ``T`` tokens (7 for a box)
  and ``H*W`` image positions (4096) never projects the image. Token-to-image: the logits
  ``q_h . (W_k,h x + b_k,h)`` are ``(W_k,h^T q_h) . x`` plus a constant per query, which
  the softmax cancels, and the values ``W_v,h x + b_v,h`` are applied after the softmax-
  weighted sum (its weights sum to one). Image-to-token: the logits become ``x . (W_q,h^T
  k_h) + b_q,h . k_h``, and the output projection is applied to the ``T`` value tokens
  before their weighted sum. Each attention then costs two ``(H*W) x C x (heads * T)``
  products instead of ``(H*W) x C x C/2`` projections per image-side tensor.
* **One mask, no pixel shuffles.** The two 2x2-stride-2 transposed convolutions of the
  upscaling are per-pixel linear maps: they run as matrix products in channels-last
  order, only the first mask token's hypernetwork output is computed, and the four
  sub-pixel positions are put in place once, on the final ``256 x 256`` mask.

The result equals ``mask_decoder(..., multimask_output=False)`` within float rounding
(``tests/models/sam/test_efficient_decoder.py`` compares them in fp32 and bf16). Mask
prompts (a dense embedding per prompt) take the package's own decoder.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from segment_anything.modeling.mask_decoder import MaskDecoder
from segment_anything.modeling.transformer import Attention, TwoWayAttentionBlock
from torch import Tensor


def _split_heads(x: Tensor, heads: int) -> Tensor:
    """``(..., N, heads * d)`` to ``(..., heads, N, d)``."""
    return x.unflatten(-1, (heads, -1)).transpose(-3, -2)


def tokens_to_image(attn: Attention, tokens: Tensor, image: Tensor, values: Tensor) -> Tensor:
    """``attn(q=tokens, k=image, v=values)`` for tokens ``(P, T, C)`` and an image side
    ``(H*W, C)`` shared by the prompts or ``(P, H*W, C)`` per prompt.

    A shared image goes through the module itself, its keys and values projected once and
    broadcast over the prompts; a per-prompt image is never projected (module docstring).
    """
    if image.dim() == 2:
        return attn(q=tokens, k=image[None], v=values[None])
    prompts, num_tokens, channels = tokens.shape
    heads = attn.num_heads
    query = _split_heads(attn.q_proj(tokens), heads)  # (P, heads, T, d)
    query = query * query.shape[-1]**-0.5
    key_weight = attn.k_proj.weight.view(heads, -1, channels)  # (heads, d, C)
    logits = torch.matmul(torch.einsum('phtd,hdc->phtc', query, key_weight).flatten(1, 2),
                          image.transpose(1, 2))
    weights = logits.softmax(dim=-1)  # (P, heads * T, H*W); k_proj's bias cancels
    pooled = torch.matmul(weights, values).view(prompts, heads, num_tokens, channels)
    value_weight = attn.v_proj.weight.view(heads, -1, channels)  # (heads, d, C)
    out = torch.einsum('phtc,hdc->phtd', pooled, value_weight)
    out = out.transpose(1, 2).flatten(2) + attn.v_proj.bias
    return attn.out_proj(out)


def image_to_tokens(attn: Attention, image: Tensor, tokens: Tensor, values: Tensor) -> Tensor:
    """``attn(q=image, k=tokens, v=values)``: ``(P, H*W, C)`` for an image side ``(H*W, C)``
    (shared) or ``(P, H*W, C)`` and tokens ``(P, T, C)``, with the projections folded into
    the tokens (module docstring)."""
    prompts, num_tokens, channels = tokens.shape
    heads = attn.num_heads
    key = _split_heads(attn.k_proj(tokens), heads)  # (P, heads, T, d)
    key = key * key.shape[-1]**-0.5
    value = _split_heads(attn.v_proj(values), heads)  # (P, heads, T, d)
    query_weight = attn.q_proj.weight.view(heads, -1, channels)  # (heads, d, C)
    # columns ordered (token, head): the softmax over tokens then runs across heads
    key_in_image = torch.einsum('phtd,hdc->pthc', key, query_weight).flatten(1, 2)
    key_bias = torch.einsum('phtd,hd->pth', key, attn.q_proj.bias.view(heads, -1)).flatten(1)
    if image.dim() == 2:  # one product for all prompts, not one per prompt on a copy
        logits = torch.mm(image, key_in_image.flatten(0, 1).t()).view(len(image), prompts, -1)
        logits = logits.transpose(0, 1)
    else:
        logits = torch.bmm(image, key_in_image.transpose(1, 2))
    logits = logits + key_bias[:, None]  # (P, H*W, T * heads)
    weights = logits.unflatten(-1, (num_tokens, heads)).softmax(dim=-2).flatten(2)
    out_weight = attn.out_proj.weight.view(channels, heads, -1)  # (C, heads, d)
    value_out = torch.einsum('phtd,chd->pthc', value, out_weight)
    return torch.baddbmm(attn.out_proj.bias, weights, value_out.flatten(1, 2))


def attention_block(block: TwoWayAttentionBlock, queries: Tensor, keys: Tensor,
                    query_pe: Tensor, key_pe: Tensor) -> Tuple[Tensor, Tensor]:
    """``TwoWayAttentionBlock.forward`` with keys ``(H*W, C)`` (shared by the prompts) or
    ``(P, H*W, C)``; returns queries ``(P, T, C)`` and per-prompt keys ``(P, H*W, C)``."""
    if block.skip_first_layer_pe:
        queries = block.self_attn(q=queries, k=queries, v=queries)
    else:
        q = queries + query_pe
        queries = queries + block.self_attn(q=q, k=q, v=queries)
    queries = block.norm1(queries)
    keys_pe = keys + key_pe
    queries = block.norm2(queries + tokens_to_image(
        block.cross_attn_token_to_image, queries + query_pe, keys_pe, keys))
    queries = block.norm3(queries + block.mlp(queries))
    keys = block.norm4(keys + image_to_tokens(
        block.cross_attn_image_to_token, keys_pe, queries + query_pe, queries))
    return queries, keys


def upscaled_mask(decoder: MaskDecoder, keys: Tensor, mask_token: Tensor,
                  size: Tuple[int, int]) -> Tensor:
    """The first mask ``(P, 1, 4h, 4w)`` from the transformer's image side ``(P, h*w, C)``
    and the first mask token ``(P, C)``: ``output_upscaling`` as channels-last matrix
    products, then the hypernetwork's dot product."""
    up1, norm, act1, up2, act2 = decoder.output_upscaling
    prompts = keys.shape[0]
    height, width = size
    # A 2x2 stride-2 transposed convolution: out[o, 2y+i, 2x+j] = b[o] + in[:, y, x] . W[:, o, i, j]
    weight1 = up1.weight.permute(2, 3, 1, 0).flatten(0, 2)  # (4 * C/4, C), rows (i, j, o)
    hidden = F.linear(keys, weight1, up1.bias.repeat(4)).unflatten(-1, (4, -1))
    hidden = act1(F.layer_norm(hidden, hidden.shape[-1:], norm.weight, norm.bias, norm.eps))
    weight2 = up2.weight.permute(2, 3, 1, 0).flatten(0, 2)  # (4 * C/8, C/4)
    hidden = act2(F.linear(hidden.flatten(1, 2), weight2, up2.bias.repeat(4)))
    hyper = decoder.output_hypernetworks_mlps[0](mask_token)  # (P, C/8)
    mask = torch.matmul(hidden.view(prompts, -1, hyper.shape[-1]), hyper[:, :, None])
    # (y, x, i1, j1, i2, j2) -> row 4y + 2 i1 + i2, column 4x + 2 j1 + j2
    mask = mask.view(prompts, height, width, 2, 2, 2, 2).permute(0, 1, 3, 5, 2, 4, 6)
    return mask.reshape(prompts, 1, 4 * height, 4 * width)


def decode_single_mask(decoder: MaskDecoder, image_embedding: Tensor, image_pe: Tensor,
                       sparse_prompt_embeddings: Tensor,
                       dense_prompt_embedding: Tensor) -> Tuple[Tensor, Tensor]:
    """``decoder(image_embedding, image_pe, sparse, dense, multimask_output=False)`` for
    one image and ``P`` prompts whose dense embedding is shared (no mask prompts).

    Args:
        decoder: ``segment_anything``'s ``MaskDecoder`` (its weights are used as they are).
        image_embedding: ``(1, C, h, w)``.
        image_pe: ``(1, C, h, w)``, the prompt encoder's ``get_dense_pe()``.
        sparse_prompt_embeddings: ``(P, S, C)``.
        dense_prompt_embedding: ``(1, C, h, w)``, shared by the prompts.

    Returns:
        Low-resolution mask logits ``(P, 1, 4h, 4w)`` and predicted IoU ``(P, 1)``.
    """
    transformer = decoder.transformer
    prompts = sparse_prompt_embeddings.shape[0]
    height, width = image_embedding.shape[-2:]
    output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
    tokens = torch.cat([output_tokens.expand(prompts, -1, -1), sparse_prompt_embeddings], 1)
    keys = (image_embedding + dense_prompt_embedding)[0].flatten(1).t()  # (h*w, C)
    key_pe = image_pe[0].flatten(1).t()
    queries = tokens
    for block in transformer.layers:
        queries, keys = attention_block(block, queries, keys, tokens, key_pe)
    queries = transformer.norm_final_attn(queries + tokens_to_image(
        transformer.final_attn_token_to_image, queries + tokens, keys + key_pe, keys))
    mask = upscaled_mask(decoder, keys, queries[:, 1], (height, width))
    iou = decoder.iou_prediction_head(queries[:, 0])[:, :1]
    return mask, iou
