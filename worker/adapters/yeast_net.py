"""The demo model: a small Borzoi-family network for yeast TSS coverage.

conv tower (1 bp → 128 bp, 7 poolings) → transformer layers on 128 bp tokens (rotary positions)
→ U-Net upsampling with skips to 32 bp → crop the edges → softplus head, one channel per track.

Input is one-hot ``(B, L, 4)`` (the canonical layout, see genomeweb.genomics.encoding); output is
``(B, bins, tracks)`` on the counts scale (predicted reads per 32 bp bin).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class YeastNetConfig:
    sequence_length: int = 8192
    crop_bp: int = 1024  # context on each side that is read but not predicted
    tracks: int = 12
    stem_channels: int = 96
    tower_channels: tuple[int, ...] = (112, 128, 160, 192, 224, 256)
    transformer_layers: int = 3
    heads: int = 4
    dropout: float = 0.1
    conv_dropout: float = 0.0  # dropout after each tower block (training only)
    unet_channels: int = 128

    @property
    def bin_size(self) -> int:
        return 32

    @property
    def token_size(self) -> int:
        return 2 ** (1 + len(self.tower_channels))

    @property
    def output_bins(self) -> int:
        return (self.sequence_length - 2 * self.crop_bp) // self.bin_size

    def to_dict(self) -> dict:
        return asdict(self)


class ConvBlock(nn.Module):
    """BatchNorm → GELU → Conv1d (→ dropout), the Basenji/Borzoi block, channels first."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int, dropout: float = 0.0):
        super().__init__()
        self.norm = nn.BatchNorm1d(channels_in)
        self.conv = nn.Conv1d(channels_in, channels_out, kernel, padding=kernel // 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.conv(F.gelu(self.norm(x))))


def rotary(x: Tensor, base: float = 10_000.0) -> Tensor:
    """Rotary position embedding over the last dim of ``(B, H, N, D)`` (D even)."""
    n, d = x.shape[-2], x.shape[-1]
    freqs = base ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)
    angles = torch.arange(n, device=x.device, dtype=torch.float32)[:, None] * freqs  # (N, D/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    """Multi-head self-attention with rotary positions.

    ``last_weights`` holds softmax(QKᵀ/√d) of the latest forward when ``keep_weights`` is set;
    the fast path (scaled_dot_product_attention) never materialises it.
    """

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout
        self.keep_weights = False
        self.last_weights: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k = rotary(q), rotary(k)  # (B, H, N, Dh)
        if self.keep_weights:
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
            self.last_weights = scores.softmax(dim=-1)  # (B, H, N, N)
            context = self.last_weights @ v
        else:
            drop = self.dropout if self.training else 0.0
            context = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        return self.out(context.transpose(1, 2).reshape(b, n, d))


class TransformerLayer(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = Attention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, 2 * dim),
            nn.Dropout(dropout),
            nn.ReLU(),
            nn.Linear(2 * dim, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class YeastNet(nn.Module):
    def __init__(self, config: YeastNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.stem = nn.Conv1d(4, c.stem_channels, 15, padding=7)
        self.stem_block = ConvBlock(c.stem_channels, c.stem_channels, 1)
        widths = (c.stem_channels, *c.tower_channels)
        self.tower = nn.ModuleList(
            ConvBlock(a, b, 5, c.conv_dropout) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        dim = widths[-1]
        self.transformer = nn.ModuleList(
            TransformerLayer(dim, c.heads, c.dropout) for _ in range(c.transformer_layers)
        )
        self.up_from_128 = ConvBlock(dim, c.unet_channels, 1)
        self.skip_64 = ConvBlock(widths[-2], c.unet_channels, 1)
        self.skip_32 = ConvBlock(widths[-3], c.unet_channels, 1)
        self.refine_64 = ConvBlock(c.unet_channels, c.unet_channels, 3)
        self.refine_32 = ConvBlock(c.unet_channels, c.unet_channels, 3)
        self.head = nn.Sequential(
            ConvBlock(c.unet_channels, c.unet_channels, 1),
            nn.GELU(),
            nn.Conv1d(c.unet_channels, c.tracks, 1),
        )

    def trunk(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Tower and transformer. Returns tokens ``(B, N, D)`` and the tower's outputs."""
        h = self.stem(x.transpose(1, 2))  # (B, 4, L) -> (B, C, L)
        h = F.max_pool1d(h + self.stem_block(h), 2)
        skips = []
        for block in self.tower:
            h = F.max_pool1d(block(h), 2)
            skips.append(h)
        tokens = h.transpose(1, 2)  # (B, N, D), one token per 128 bp
        for layer in self.transformer:
            tokens = layer(tokens)
        return tokens, skips

    def upsample(self, tokens: Tensor, skips: list[Tensor]) -> Tensor:
        """U-Net: 128 bp tokens → 64 bp → 32 bp, adding the tower's features at each step."""
        h = self.up_from_128(tokens.transpose(1, 2))
        h = F.interpolate(h, scale_factor=2, mode="nearest") + self.skip_64(skips[-2])
        h = self.refine_64(h)
        h = F.interpolate(h, scale_factor=2, mode="nearest") + self.skip_32(skips[-3])
        return self.refine_32(h)  # (B, C, L/32)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, L, 4)`` one-hot → ``(B, bins, tracks)`` predicted counts per 32 bp bin."""
        tokens, skips = self.trunk(x)
        h = self.upsample(tokens, skips)
        crop = self.config.crop_bp // self.config.bin_size
        h = h[:, :, crop : h.shape[-1] - crop]
        return F.softplus(self.head(h)).transpose(1, 2)
