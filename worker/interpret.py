"""Why the model predicts what it does: objectives, in silico mutagenesis, gradient saliency.

An objective turns a prediction ``(B, bins, T)`` into one number per sequence: the chosen
tracks' mean, summed over chosen output bins, on the counts scale (adapters un-transform), then
``log2(x + 1)`` unless linear. MODEL_NOTES.md's gradient recipe is the gene objective: the exon
bins of a gene, its strand-matched tracks, log.

ISM predicts every single-base substitution of a stretch of the window and reports
``objective(mutant) − objective(reference)`` as an ``(L, 4)`` matrix (0 at the reference base).
Mutants are built on the model's device from the reference one-hot; models with a fast path for
substitutions (``predict_substitutions``) recompute only what each mutation reaches.

Saliency is gradient × input with the gradient mean-centred over A, C, G, T at each position
(so it is independent of the one-hot's arbitrary offset); summed over the bases it is the
gradient at the reference base minus the positional mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from genomeweb.genomics.annotation import Gene
from genomeweb.genomics.intervals import Interval
from worker.adapters.base import ModelAdapter
from worker.runtime import autocast
from worker.scoring import exon_bins, strand_mask

Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class Objective:
    """``(B, bins, len(tracks))`` predictions of ``tracks`` → ``(B,)``."""

    tracks: list[int]  # model track indices, averaged
    bins: np.ndarray  # (bins,) bool: the output bins summed
    log: bool = True
    description: str = ""

    def __call__(self, pred: Tensor) -> Tensor:
        mask = torch.as_tensor(self.bins, device=pred.device)
        total = pred[:, mask].mean(dim=-1).sum(dim=-1)  # callers pass float32 or float64
        return torch.log2(total + 1) if self.log else total


def centred_window(model: ModelAdapter, region: Interval) -> Interval:
    """The model's input window centred on ``region`` (N beyond the contig's ends)."""
    start = (region.start + region.end) // 2 - model.sequence_length // 2
    return Interval(region.chrom, start, start + model.sequence_length)


def output_interval(model: ModelAdapter, window: Interval) -> Interval:
    """The genome interval of the output bins of the input ``window``."""
    first = window.start + model.crop_bp
    return Interval(window.chrom, first, first + model.output_bins * model.bin_size)


def track_objective(
    model: ModelAdapter,
    window: Interval,
    tracks: Sequence[int],
    over: Interval | None = None,
    *,
    log: bool = True,
) -> Objective:
    """The mean of ``tracks`` summed over the output bins overlapping ``over`` (all bins when
    None). Raises ValueError when ``over`` misses the window's output."""
    output = output_interval(model, window)
    bins = np.ones(model.output_bins, dtype=bool)
    if over is not None:
        first = max((over.start - output.start) // model.bin_size, 0)
        last = min(-(-(over.end - output.start) // model.bin_size), model.output_bins)
        if over.chrom != output.chrom or first >= last:
            raise ValueError(f"{over.to_ucsc()} is outside the predicted {output.to_ucsc()}")
        bins[:] = False
        bins[first:last] = True
    names = ", ".join(model.tracks.tracks[t].identifier for t in tracks)
    where = over.to_ucsc() if over else output.to_ucsc()
    return Objective(list(tracks), bins, log, f"{_scale(log)} of {names} over {where}")


def gene_objective(
    model: ModelAdapter, window: Interval, gene: Gene, *, log: bool = True
) -> Objective:
    """The gradient recipe: ``gene``'s strand-matched tracks over its exon bins."""
    output = output_interval(model, window)
    bins = exon_bins([gene], output, model.bin_size)[0]
    if not bins.any():
        raise ValueError(f"no exon of {gene.name or gene.gene_id} is in {output.to_ucsc()}")
    matched = strand_mask([gene], model.tracks.tracks)[0]
    tracks = [int(t) for t in np.flatnonzero(matched)]
    label = gene.name or gene.gene_id
    description = f"{_scale(log)} of {label}'s {len(tracks)} {gene.strand} strand tracks"
    return Objective(tracks, bins, log, f"{description} over its exon bins")


def _scale(log: bool) -> str:
    return "log2(1 + sum)" if log else "sum"


def _objective_of(model: ModelAdapter, onehot: Tensor, objective: Objective) -> Tensor:
    with autocast(model.device):
        return objective(model.predict(onehot, objective.tracks).float())


# --- in silico mutagenesis --------------------------------------------------------------------


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
        progress: ``progress(done, total)`` in mutants, after each batch.

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
            state, reference = None, _objective_of(model, ref, objective)
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


# --- gradient saliency ------------------------------------------------------------------------


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


# --- attention --------------------------------------------------------------------------------


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
