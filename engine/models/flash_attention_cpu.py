"""Flashzoi's attention in plain PyTorch, so the published Flashzoi weights run without flash-attn.

borzoi-pytorch builds each Flashzoi attention layer as ``FlashAttention``, a wrapper around
flash-attn's ``MHA`` (``flash_attn/modules/mha.py``), and flash-attn cannot even be imported
without CUDA. ``FlashzoiAttention`` keeps the parameter names (``mha.Wqkv``, ``mha.out_proj``), so
a Flashzoi ``model.safetensors`` loads unchanged, and computes what that ``MHA`` computes with
``use_flash_attn=True, num_heads_kv=heads // 2, rotary_emb_dim=128, rotary_emb_base=20000``:

- one fused projection ``Wqkv`` (with bias) whose output is q for ``heads`` heads, then k for
  ``heads // 2`` heads, then v for ``heads // 2`` heads; head size ``dim // heads`` (192 at full
  size, 8 query heads over 4 shared key/value heads);
- GPT-NeoX (not interleaved) rotary embedding on the first 128 dims of every q and k head, with
  positions 0..N-1; cos and sin are computed in fp32 and cast to q's dtype, as flash-attn's
  ``RotaryEmbedding`` does;
- grouped-query attention: query head ``h`` reads key/value head ``h // (heads // kv_heads)``;
- softmax scale ``(dim / heads) ** -0.5``, no mask, attention dropout in training only.

``forward`` uses ``scaled_dot_product_attention``; ``attention_weights`` is the explicit softmax
path that ``BorzoiAdapter.attention`` reads (flash kernels never materialise the weights).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

ROTARY_DIM = 128
ROTARY_BASE = 20_000.0


def rotary_tables(length: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """cos and sin of flash-attn's rotary embedding for positions ``0..length-1``.

    Returns:
        Two ``(length, ROTARY_DIM)`` tensors: each of the ``ROTARY_DIM // 2`` frequencies twice,
        first half then second half (the non-interleaved layout).
    """
    # fp32 throughout, like flash-attn: in bf16 the products position × frequency lose too much.
    steps = torch.arange(0, ROTARY_DIM, 2, device=device, dtype=torch.float32) / ROTARY_DIM
    inv_freq = 1.0 / ROTARY_BASE**steps
    freqs = torch.outer(torch.arange(length, device=device, dtype=torch.float32), inv_freq)
    freqs = torch.cat((freqs, freqs), dim=-1)  # (length, ROTARY_DIM)
    return freqs.cos().to(dtype), freqs.sin().to(dtype)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate the first ``ROTARY_DIM`` dims of ``x`` ``(B, H, N, D)``; the rest pass through."""
    rotated, rest = x[..., :ROTARY_DIM], x[..., ROTARY_DIM:]
    first, second = rotated.chunk(2, dim=-1)
    rotated = rotated * cos + torch.cat((-second, first), dim=-1) * sin
    return torch.cat((rotated, rest), dim=-1)


class FlashzoiMHA(nn.Module):
    """The parameters and arithmetic of flash-attn's ``MHA`` as Flashzoi configures it."""

    def __init__(self, dim: int, *, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads or dim // heads < ROTARY_DIM or heads % 2:
            raise ValueError(f"Flashzoi attention needs dim / heads ≥ {ROTARY_DIM}, even heads")
        self.heads, self.kv_heads = heads, heads // 2
        self.head_dim = dim // heads
        self.softmax_scale = self.head_dim**-0.5
        self.dropout = dropout
        self.Wqkv = nn.Linear(dim, self.head_dim * (self.heads + 2 * self.kv_heads))
        self.out_proj = nn.Linear(dim, dim)

    def split_heads(self, qkv: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``Wqkv`` output ``(B, N, (H + 2 Hkv) D)`` → rotated q ``(B, H, N, D)``, rotated k and v
        ``(B, Hkv, N, D)``."""
        split = self.heads * self.head_dim
        q = rearrange(qkv[..., :split], "b n (h d) -> b h n d", d=self.head_dim)
        k, v = rearrange(qkv[..., split:], "b n (two h d) -> two b h n d", two=2, d=self.head_dim)
        cos, sin = rotary_tables(qkv.shape[1], qkv.device, q.dtype)
        return apply_rotary(q, cos, sin), apply_rotary(k, cos, sin), v

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, dim)`` → ``(B, N, dim)``."""
        q, k, v = self.split_heads(self.Wqkv(x))
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            dropout_p=self.dropout if self.training else 0.0,
            scale=self.softmax_scale,
            enable_gqa=True,  # repeats each k/v head for heads // kv_heads query heads
        )
        return self.out_proj(rearrange(out, "b h n d -> b n (h d)"))

    def attention_weights(self, qkv: Tensor) -> Tensor:
        """Explicit softmax weights ``(B, H, N, N)`` from the ``Wqkv`` output ``qkv``."""
        q, k, _ = self.split_heads(qkv)
        k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)  # (B, H, N, D)
        scores = torch.einsum("b h i d, b h j d -> b h i j", q, k * self.softmax_scale)
        return scores.softmax(dim=-1)


class FlashzoiAttention(nn.Module):
    """Drop-in for borzoi-pytorch's ``FlashAttention``: same arguments, same parameter names."""

    def __init__(
        self,
        dim: int = 1536,
        heads: int = 8,
        dropout: float = 0.15,
        pos_dropout: float = 0.15,
        rotary_emb_base: float = ROTARY_BASE,
        rotary_emb_scale_base: float | None = None,
    ) -> None:
        super().__init__()
        # pos_dropout is unused by the original too; other rotary settings were never published.
        if rotary_emb_base != ROTARY_BASE or rotary_emb_scale_base is not None:
            raise ValueError("only Flashzoi's rotary embedding (base 20000, no xPos) is supported")
        self.mha = FlashzoiMHA(dim, heads=heads, dropout=dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.mha(x)


@contextmanager
def flashzoi_without_flash_attn() -> Iterator[None]:
    """While open, borzoi-pytorch builds Flashzoi layers as ``FlashzoiAttention``.

    ``Borzoi.__init__`` looks ``FlashAttention`` up in its own module at call time, so swapping
    that name is enough; it is restored on exit, even after an error.
    """
    from borzoi_pytorch import pytorch_borzoi_model

    original = pytorch_borzoi_model.FlashAttention
    pytorch_borzoi_model.FlashAttention = FlashzoiAttention
    try:
        yield
    finally:
        pytorch_borzoi_model.FlashAttention = original
