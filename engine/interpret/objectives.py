"""What an explanation explains: an objective turns a prediction ``(B, bins, T)`` into one
number per sequence: the chosen tracks' mean, summed over chosen output bins, on the counts
scale (adapters un-transform), then ``log2(x + 1)`` unless linear. MODEL_NOTES.md's gradient
recipe is the gene objective: a gene's scored bins (its exons, or for a TSS model the window
around its start: ``ModelAdapter.gene_region``), its strand-matched tracks, log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from engine.io.annotation import Gene
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter
from engine.models.runtime import autocast
from engine.variants.scorers import gene_region_bins, strand_mask


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
    """The gradient recipe: ``gene``'s strand-matched tracks over its scored bins (its exons,
    or its start window for a TSS model: ``model.gene_region``)."""
    output = output_interval(model, window)
    bins = gene_region_bins([gene], output, model.bin_size, model.gene_region)[0]
    if not bins.any():
        where = "start window" if not model.gene_region.is_exons else "exons"
        raise ValueError(f"none of {gene.name or gene.gene_id}'s {where} is in {output.to_ucsc()}")
    matched = strand_mask([gene], model.tracks.tracks)[0]
    tracks = [int(t) for t in np.flatnonzero(matched)]
    label = gene.name or gene.gene_id
    description = f"{_scale(log)} of {label}'s {len(tracks)} {gene.strand} strand tracks"
    return Objective(tracks, bins, log, f"{description} over {model.gene_region.describe()}")


def _scale(log: bool) -> str:
    return "log2(1 + sum)" if log else "sum"


def objective_of(model: ModelAdapter, onehot: Tensor, objective: Objective) -> Tensor:
    with autocast(model.device):
        return objective(model.predict(onehot, objective.tracks).float())
