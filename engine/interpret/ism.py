"""In silico saturation mutagenesis: every single-base substitution of a stretch of the window,
reported as ``objective(mutant) − objective(reference)``, an ``(L, 4)`` matrix (0 at the
reference base). Mutants are built on the model's device from the reference one-hot; models
with a fast path for substitutions (``predict_substitutions``) recompute only what each
mutation reaches. Its limits and the per-position summary live in ``ism_rules`` (no torch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from engine.interpret.objectives import Objective, objective_of
from engine.models.base import ModelAdapter
from engine.models.runtime import autocast

Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class IsmResult:
    effects: np.ndarray  # (n, 4) float32: objective(mutant) − objective(reference)
    reference: float  # objective of the reference window
    first: int  # window position of effects[0]
    forward_passes: int  # mutants predicted (each × the ensemble's passes)


def ism(
    model: ModelAdapter,
    onehot: np.ndarray,
    objective: Objective,
    first: int,
    last: int,
    *,
    batch_size: int = 32,
    fast: bool = True,
    progress: Progress | None = None,
) -> IsmResult:
    """Every single-base substitution at window positions ``[first, last)``.

    Args:
        model: an adapter or Ensemble; its fast path is used when it has one and ``fast``.
        onehot: ``(L, 4)`` the reference window.
        objective: what each mutant is scored by.
        first, last: the stretch to mutate (window positions).
        batch_size: mutants per forward pass.
        fast: use the model's fast path for substitutions when it has one.
        progress: ``progress(done, total)`` in mutants: 0 before the first batch, then after
            each batch.

    Returns:
        Effects ``(last − first, 4)``: 0 at the reference base; at an N every base is a mutant.
    """
    if not 0 <= first < last <= model.sequence_length:
        raise ValueError(f"ISM stretch {first}-{last} is outside the {model.sequence_length} bp")
    device = model.device
    ref = torch.as_tensor(onehot, dtype=torch.float32, device=device)[None]  # (1, L, 4)
    positions, bases = _mutants(onehot, first, last)
    effects = np.zeros((last - first, 4), dtype=np.float32)
    with torch.inference_mode():
        if fast and model.supports_substitutions:
            with autocast(device):
                pred, state = model.predict_reference(ref, objective.tracks)
            reference = objective(pred.float())
        else:
            state, reference = None, objective_of(model, ref, objective)
        if progress:  # the start of the mutants: the time left is measured from here
            progress(0, len(positions))
        for start in range(0, len(positions), batch_size):
            p = torch.as_tensor(positions[start : start + batch_size], device=device)
            b = torch.as_tensor(bases[start : start + batch_size], device=device)
            values = _mutant_objectives(model, ref, p, b, objective, state) - reference
            effects[p.cpu().numpy() - first, b.cpu().numpy()] = values.float().cpu().numpy()
            if progress:
                progress(min(start + batch_size, len(positions)), len(positions))
    return IsmResult(effects, float(reference[0]), first, len(positions))


def _mutants(onehot: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """(position, base) of every substitution in ``[first, last)``: the bases that are not the
    reference (all four at an N)."""
    is_ref = onehot[first:last] > 0.5  # (n, 4)
    position, base = np.nonzero(~is_ref)
    return (position + first).astype(np.int64), base.astype(np.int64)


def _mutant_objectives(
    model: ModelAdapter,
    ref: Tensor,
    positions: Tensor,
    bases: Tensor,
    objective: Objective,
    state: object | None,
) -> Tensor:
    """Objectives ``(b,)`` of the reference with ``bases`` written at ``positions``."""
    alt = ref.expand(len(positions), -1, -1).clone()
    rows = torch.arange(len(positions), device=ref.device)
    alt[rows, positions] = torch.nn.functional.one_hot(bases, 4).to(alt.dtype)
    with autocast(model.device):
        if state is None:
            pred = model.predict(alt, objective.tracks)
        else:
            group = torch.zeros_like(positions)
            pred = model.predict_substitutions(state, group, alt, positions, 1, objective.tracks)
    return objective(pred.float())
