"""The demo model: a small Borzoi-family network for yeast TSS coverage.

conv tower (1 bp → 128 bp, 7 poolings) → transformer layers on 128 bp tokens (rotary positions)
→ U-Net upsampling with skips to 32 bp → crop the edges → softplus head, one channel per track.

Input is one-hot ``(B, L, 4)`` (the canonical layout, see engine.io.encoding); output is
``(B, bins, tracks)`` on the counts scale (predicted reads per 32 bp bin).
"""

from __future__ import annotations

import functools
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
    # "max": max-pool pairs of positions (the first pool pairs bases, so a 1-bp shift changes
    # what every deeper position summarises); "blur": max at stride 1, then a [1, 2, 1] low-pass
    # before subsampling (anti-aliased, Zhang 2019), so the tower shifts with its input.
    pool: str = "max"

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

    def __post_init__(self) -> None:
        if self.pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {self.pool!r}")


POOLS = ("max", "blur")


class ConvBlock(nn.Module):
    """BatchNorm → GELU → Conv1d (→ dropout), the Basenji/Borzoi block, channels first."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int, dropout: float = 0.0):
        super().__init__()
        self.norm = nn.BatchNorm1d(channels_in)
        self.conv = nn.Conv1d(channels_in, channels_out, kernel, padding=kernel // 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.conv(F.gelu(self.norm(x))))


def blur_pool(h: Tensor) -> Tensor:
    """Anti-aliased halving of ``(B, C, n)`` (n even) → ``(B, C, n / 2)``: the maximum of each
    position and its right neighbour, low-passed by [1, 2, 1] / 4 before every other position is
    kept; the window's ends repeat their edge values."""
    h = F.max_pool1d(F.pad(h, (0, 1), mode="replicate"), 2, stride=1)  # (B, C, n)
    kernel = torch.tensor([0.25, 0.5, 0.25], dtype=h.dtype, device=h.device)
    kernel = kernel.expand(h.shape[1], 1, 3)
    return F.conv1d(F.pad(h, (1, 1), mode="replicate"), kernel, stride=2, groups=h.shape[1])


def rotary(x: Tensor, base: float = 10_000.0) -> Tensor:
    """Rotary position embedding over the last dim of ``(B, H, N, D)`` (D even): each pair
    ``(x[2i], x[2i + 1])`` rotated by its position's angle.

    In float32/float64 as one complex multiplication (the pairs viewed as complex numbers),
    which reads ``x`` once and was 20–50× faster on a CPU than slicing, multiplying and
    stacking the halves; the same numbers. Other dtypes (bf16 on GPUs) have no complex view.
    """
    if x.dtype in (torch.float32, torch.float64):
        turn = _rotary_turns(x.shape[-2], x.shape[-1], base, x.device, x.dtype)
        return torch.view_as_real(torch.view_as_complex(x.unflatten(-1, (-1, 2))) * turn).flatten(
            -2
        )
    cos, sin = _rotary_table(x.shape[-2], x.shape[-1], base, x.device, x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


@functools.lru_cache(maxsize=16)
def _rotary_table(
    n: int, d: int, base: float, device: torch.device, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """cos and sin of the rotation angles, ``(N, D/2)`` each: computed once per shape (scoring
    calls the transformer thousands of times at one length; recomputing them was 18 % of a run).
    Made outside inference mode, so training may save them for backward."""
    with torch.inference_mode(False), torch.no_grad():
        freqs = base ** (-torch.arange(0, d, 2, device=device, dtype=torch.float32) / d)
        angles = torch.arange(n, device=device, dtype=torch.float32)[:, None] * freqs
        return angles.cos().to(dtype), angles.sin().to(dtype)


@functools.lru_cache(maxsize=16)
def _rotary_turns(n: int, d: int, base: float, device: torch.device, dtype: torch.dtype) -> Tensor:
    """``cos + i sin`` of the rotation angles, ``(N, D/2)`` complex (``_rotary_table``)."""
    cos, sin = _rotary_table(n, d, base, device, dtype)
    with torch.inference_mode(False), torch.no_grad():
        return torch.complex(cos, sin)


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

    def tower_levels(self, x: Tensor) -> list[Tensor]:
        """``(B, L, 4)`` → the tower's outputs ``(B, C, N)`` at 2, 4, 8, …, 128 bp per position:
        the stem's, then one per tower block (the last are the transformer's tokens)."""
        h = self.stem(x.transpose(1, 2))  # (B, 4, L) -> (B, C, L)
        h = self.halve(h + self.stem_block(h))
        levels = [h]
        for block in self.tower:
            h = self.halve(block(h))
            levels.append(h)
        return levels

    def halve(self, h: Tensor) -> Tensor:
        """The tower's pooling, ``(B, C, n)`` → ``(B, C, n / 2)``."""
        return blur_pool(h) if self.config.pool == "blur" else F.max_pool1d(h, 2)

    def transform(self, tower_out: Tensor) -> Tensor:
        """The transformer on the tower's last level: ``(B, D, N)`` → tokens ``(B, N, D)``."""
        tokens = tower_out.transpose(1, 2)  # one token per 128 bp
        for layer in self.transformer:
            tokens = layer(tokens)
        return tokens

    def trunk(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Tower and transformer. Returns tokens ``(B, N, D)`` and the tower blocks' outputs."""
        levels = self.tower_levels(x)
        return self.transform(levels[-1]), levels[1:]

    def decode(self, tokens: Tensor, skip_64: Tensor, skip_32: Tensor) -> Tensor:
        """U-Net (128 bp tokens → 64 bp → 32 bp, adding the tower's features at each step),
        crop, head: ``(B, bins, tracks)`` counts."""
        h = self.up_from_128(tokens.transpose(1, 2))
        h = F.interpolate(h, scale_factor=2, mode="nearest") + self.skip_64(skip_64)
        h = self.refine_64(h)
        h = F.interpolate(h, scale_factor=2, mode="nearest") + self.skip_32(skip_32)
        h = self.refine_32(h)  # (B, C, L/32)
        crop = self.config.crop_bp // self.config.bin_size
        h = h[:, :, crop : h.shape[-1] - crop]
        return F.softplus(self.head(h)).transpose(1, 2)

    def from_levels(self, levels: list[Tensor]) -> Tensor:
        """Everything after the tower: ``tower_levels`` → ``(B, bins, tracks)``."""
        return self.decode(self.transform(levels[-1]), levels[-2], levels[-3])

    def forward(self, x: Tensor) -> Tensor:
        """``(B, L, 4)`` one-hot → ``(B, bins, tracks)`` predicted counts per 32 bp bin."""
        return self.from_levels(self.tower_levels(x))

    def forward_substituted(
        self, reference: list[Tensor], group: Tensor, alt: Tensor, first: Tensor, width: int
    ) -> Tensor:
        """``forward(alt)`` for sequences that differ from a reference only in a short stretch,
        recomputing the convolutional tower only around it (fast in silico mutagenesis).

        A base reaches ±7 bp through the stem and ±2 positions through each tower block, so
        each level is recomputed over a few positions around the change and read from the
        reference's levels elsewhere; the transformer and the U-Net, which see the whole
        window, run in full.

        Args:
            reference: ``tower_levels`` of the reference windows, each ``(W, C, N)``.
            group: ``(b,)`` the reference window of each alternative.
            alt: ``(b, L, 4)`` the alternative one-hots.
            first: ``(b,)`` the first position where ``alt`` may differ from its reference.
            width: how many positions from ``first`` may differ (the same for the batch).

        Returns:
            ``(b, bins, tracks)``, equal to ``forward(alt)`` up to float rounding.
        """
        values, first = _stem_local(self, alt, first, width)
        patched = []
        for level, block in enumerate(self.tower):
            values, first = _block_local(block, reference[level], group, values, first)
            if level >= len(self.tower) - 3:
                patched.append(_scatter(reference[level + 1], group, values, first))
        skip_32, skip_64, tower_out = patched
        return self.decode(self.transform(tower_out), skip_64, skip_32)


# --- local recomputation for forward_substituted ----------------------------------------------


def _pooled_span(first: Tensor, width: int, half: int, n: int) -> tuple[Tensor, int]:
    """Where a convolution (kernel ``2 * half + 1``) then a pool of 2 must be recomputed when
    its ``n`` inputs changed at ``[first, first + width)``: ``(t, u)``, the pooled outputs
    ``[t, t + u)`` — kept inside ``[0, n / 2)``, the same ``u`` for the whole batch."""
    u = min((width + 2 * half) // 2 + 2, n // 2)
    t = (first - half).div(2, rounding_mode="floor").clamp(0, n // 2 - u)
    return t, u


def _window_positions(t: Tensor, u: int, half: int) -> Tensor:
    """``(b, 2u + 2 half)`` input positions read to compute pooled outputs ``[t, t + u)``."""
    return (2 * t - half)[:, None] + torch.arange(2 * u + 2 * half, device=t.device)


def _pad_mask(positions: Tensor, n: int) -> Tensor:
    """``(b, 1, width)``: 1 inside the sequence, 0 where the full convolution zero-pads."""
    return ((positions >= 0) & (positions < n)).unsqueeze(1)


def _stem_local(model: YeastNet, alt: Tensor, first: Tensor, width: int) -> tuple[Tensor, Tensor]:
    """The stem's pooled output around each change, straight from the alternative one-hot."""
    n, half = alt.shape[1], model.stem.kernel_size[0] // 2
    t, u = _pooled_span(first, width, half, n)
    positions = _window_positions(t, u, half)
    rows = torch.arange(len(alt), device=alt.device)[:, None]
    x = alt[rows, positions.clamp(0, n - 1)].transpose(1, 2) * _pad_mask(positions, n)
    h = F.conv1d(x, model.stem.weight, model.stem.bias)
    return F.max_pool1d(h + model.stem_block(h), 2), t


def _block_local(
    block: ConvBlock, reference: Tensor, group: Tensor, values: Tensor, first: Tensor
) -> tuple[Tensor, Tensor]:
    """One tower block around each change: its input is the reference level with ``values``
    written at ``[first, first + width)``; returns the block's pooled output there."""
    n, width, half = reference.shape[-1], values.shape[-1], block.conv.kernel_size[0] // 2
    t, u = _pooled_span(first, width, half, n)
    positions = _window_positions(t, u, half)
    x = reference.transpose(1, 2)[group[:, None], positions.clamp(0, n - 1)].transpose(1, 2)
    x = _write(x, values, first - positions[:, 0])
    x = F.gelu(block.norm(x)) * _pad_mask(positions, n)  # padding is zeros after activation
    h = F.conv1d(x, block.conv.weight, block.conv.bias)
    return F.max_pool1d(h, 2), t


def _write(x: Tensor, values: Tensor, offset: Tensor) -> Tensor:
    """``x (b, C, m)`` with ``values (b, C, w)`` written from position ``offset (b,)`` on."""
    index = offset[:, None] + torch.arange(values.shape[-1], device=x.device)
    return x.scatter(2, index[:, None, :].expand(-1, x.shape[1], -1), values)


def _scatter(reference: Tensor, group: Tensor, values: Tensor, first: Tensor) -> Tensor:
    """The whole level ``(b, C, n)`` of each alternative: its reference, patched."""
    return _write(reference[group], values, first)
