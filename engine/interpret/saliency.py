"""Gradient saliency: gradient × input with the gradient mean-centred over A, C, G, T at each
position (so it is independent of the one-hot's arbitrary offset); summed over the bases it is
the gradient at the reference base minus the positional mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.interpret.objectives import Objective
from engine.models.base import ModelAdapter


@dataclass(frozen=True)
class Saliency:
    gradient: np.ndarray  # (L, 4) d objective / d input, mean-centred over the bases
    contribution: np.ndarray  # (L,) gradient × input summed over bases (the reference base's)
    objective: float


def saliency(model: ModelAdapter, onehot: np.ndarray, objective: Objective) -> Saliency:
    """Gradient × input of ``objective`` over the whole window (MODEL_NOTES.md's recipe).

    Runs in float32 even on CUDA: bf16 gradients of a log objective are too coarse to rank
    positions.
    """
    x = torch.as_tensor(onehot, dtype=torch.float32, device=model.device)[None].requires_grad_()
    with torch.enable_grad():
        value = objective(model.predict(x, objective.tracks).float())
        (gradient,) = torch.autograd.grad(value.sum(), x)
    gradient = gradient[0] - gradient[0].mean(dim=-1, keepdim=True)
    contribution = (gradient * x[0].detach()).sum(dim=-1)
    return Saliency(
        gradient.cpu().numpy().astype(np.float32),
        contribution.cpu().numpy().astype(np.float32),
        float(value.detach()),
    )


def peak_window(contribution: np.ndarray, width: int, smooth: int = 11) -> tuple[int, int]:
    """The focused-ISM recipe's stretch: ``width`` bp centred on the peak of |gradient × input|
    smoothed over ``smooth`` bp, kept inside the window."""
    kernel = np.ones(smooth) / smooth
    smoothed = np.convolve(np.abs(contribution), kernel, mode="same")
    centre = int(np.argmax(smoothed))
    first = min(max(centre - width // 2, 0), len(contribution) - width)
    return first, first + width
