"""Plain-ViT building blocks in timm's key layout, shared by ViT-Adapter and ViT + RVSA.

The names (``patch_embed.proj``, ``blocks.N.norm1``, ``blocks.N.attn.qkv``,
``blocks.N.attn.proj``, ``blocks.N.mlp.fc1``/``fc2``, ``blocks.N.norm2``) are those of the
public DeiT, MAE and (after :func:`~mmsamrs.models.backbones.pretrained.merge_qv_bias`) BEiT
checkpoints, so they load without renaming.
"""
from typing import Optional, Tuple

import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from torch import Tensor, nn


class PatchEmbed(nn.Module):
    """Non-overlapping patch embedding: a strided convolution, output (B, h*w, C) and (h, w).

    Args:
        in_channels: Image channels.
        embed_dim: Token width.
        patch_size: Patch side (also the stride).
    """

    def __init__(self, in_channels: int = 3, embed_dim: int = 768,
                 patch_size: int = 16) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """Tokens (B, h*w, C) and the patch grid (h, w)."""
        x = self.proj(x)
        return x.flatten(2).transpose(1, 2), (x.shape[2], x.shape[3])


class Mlp(nn.Module):
    """Two linear layers with GELU between them (timm's ``Mlp``)."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        """(..., dim) -> (..., dim)."""
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Global multi-head self-attention over all tokens (timm's ``Attention``).

    Args:
        dim: Token width.
        num_heads: Attention heads.
        qkv_bias: Give the query/key/value projection a bias.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tensor:
        """(B, N, C) -> (B, N, C); ``hw`` (the token grid) is unused by global attention."""
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``.

    Args:
        dim: Token width.
        num_heads: Attention heads (of the default global attention).
        mlp_ratio: Hidden width of the MLP over ``dim``.
        qkv_bias: Bias on the query/key/value projection.
        drop_path: Stochastic-depth rate of both residual branches.
        attn: Another attention module taking ``(x, hw)`` (e.g. windowed); default global.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, drop_path: float = 0.0,
                 attn: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = attn if attn is not None else Attention(dim, num_heads, qkv_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tensor:
        """(B, h*w, C) tokens of an (h, w) grid -> same shape."""
        x = x + self.drop_path(self.attn(self.norm1(x), hw))
        return x + self.drop_path(self.mlp(self.norm2(x)))
