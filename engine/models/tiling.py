"""Predict long regions by tiling them with model windows and keeping each window's centre."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

PredictFn = Callable[[torch.Tensor], torch.Tensor]  # (B, L, 4) one-hot -> (B, bins, tracks)


def codes_to_onehot(codes: np.ndarray) -> torch.Tensor:
    """Base codes (ACGT = 0..3, N = 4), shape ``(..., L)`` → one-hot ``(..., L, 4)`` float32."""
    table = torch.cat([torch.eye(4), torch.zeros(1, 4)])  # N → all zeros
    return table[torch.as_tensor(codes, dtype=torch.long)]


def tile_region(
    predict: PredictFn,
    codes: np.ndarray,
    start: int,
    end: int,
    *,
    sequence_length: int,
    crop_bp: int,
    bin_size: int,
    batch_size: int = 8,
) -> np.ndarray:
    """Predictions for ``[start, end)`` of a chromosome given as base codes.

    Windows overlap by ``2 * crop_bp`` so every predicted bin had full context; positions off
    the chromosome are read as N. ``start`` must sit on the bin grid.

    Returns:
        ``(ceil((end - start) / bin_size), tracks)`` float32.
    """
    if start % bin_size:
        raise ValueError(f"start {start} is not a multiple of the bin size {bin_size}")
    step = sequence_length - 2 * crop_bp
    window_starts = list(range(start - crop_bp, end - crop_bp, step))
    chunks = []
    for i in range(0, len(window_starts), batch_size):
        batch = np.stack(
            [_window(codes, s, sequence_length) for s in window_starts[i : i + batch_size]]
        )
        with torch.inference_mode():
            chunks.append(predict(codes_to_onehot(batch)).float().cpu().numpy())
    bins = np.concatenate(chunks).reshape(-1, chunks[0].shape[-1])  # windows side by side
    return bins[: -(-(end - start) // bin_size)]


def _window(codes: np.ndarray, start: int, length: int) -> np.ndarray:
    out = np.full(length, 4, dtype=np.uint8)
    lo, hi = max(start, 0), min(start + length, len(codes))
    if hi > lo:
        out[lo - start : hi - start] = codes[lo:hi]
    return out
