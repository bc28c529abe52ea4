"""Attention maps: one transformer layer's softmax attention over a window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.models.base import ModelAdapter


@dataclass(frozen=True)
class AttentionMap:
    weights: np.ndarray  # (N, N) float32, row = query token, column = key token; rows sum to 1
    token_bp: int  # bp per token (the window is N tokens)
    heads: int  # how many heads the layer has (``weights`` is one of them, or their mean)


def attention_map(
    model: ModelAdapter, onehot: np.ndarray, layer: int, head: int | None
) -> AttentionMap:
    """Softmax attention of one transformer layer over the window, of one head or the mean of
    all (``head=None``), from the first replicate in forward orientation (attention is a
    property of one pass, not of an ensemble)."""
    if not 0 <= layer < model.attention_layers:
        raise ValueError(
            f"{model.name} has attention layers 1 to {model.attention_layers}; asked for "
            f"{layer + 1}"
        )
    x = torch.as_tensor(onehot, dtype=torch.float32, device=model.device)[None]
    with torch.inference_mode():
        weights = model.attention(x, layer)[0].float()  # (H, N, N)
    if head is not None and not 0 <= head < weights.shape[0]:
        raise ValueError(
            f"layer {layer + 1} has heads 1 to {weights.shape[0]}; asked for {head + 1}"
        )
    chosen = weights.mean(dim=0) if head is None else weights[head]
    tokens = chosen.shape[-1]
    return AttentionMap(
        chosen.cpu().numpy().astype(np.float32), len(onehot) // tokens, int(weights.shape[0])
    )
