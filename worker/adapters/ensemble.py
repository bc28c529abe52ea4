"""Ensembling that wraps any adapter: reverse complement, input shifts, replicates (folds).

Each option multiplies the forward passes, so each is a parameter of the job.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from worker.adapters.base import ModelAdapter


def reverse_complement(onehot: Tensor) -> Tensor:
    """``(B, L, 4)`` ACGT one-hot → its reverse complement (flip positions, A↔T, C↔G)."""
    return onehot.flip(dims=(1, 2))


def shift(onehot: Tensor, bp: int) -> Tensor:
    """Move the sequence ``bp`` to the right (left when negative), filling with N (zeros)."""
    if bp == 0:
        return onehot
    out = torch.zeros_like(onehot)
    if bp > 0:
        out[:, bp:] = onehot[:, :-bp]
    else:
        out[:, :bp] = onehot[:, -bp:]
    return out


class Ensemble(ModelAdapter):
    """The mean prediction over replicates × {forward, reverse complement} × shifts.

    The reverse-complement pass is read back in forward orientation: bins flipped, and each
    stranded track taken from its strand partner (a + strand track's value comes from the
    partner − strand track of the flipped input).
    """

    def __init__(
        self,
        replicates: Sequence[ModelAdapter],
        *,
        reverse_complement: bool = True,
        shifts: Sequence[int] = (0,),
    ) -> None:
        first = replicates[0]
        self.replicates = list(replicates)
        self.use_rc = reverse_complement
        self.shifts = tuple(shifts)
        self.name, self.tracks, self.device = first.name, first.tracks, first.device
        self.sequence_length, self.bin_size, self.crop_bp = (
            first.sequence_length,
            first.bin_size,
            first.crop_bp,
        )

    @property
    def passes_per_sequence(self) -> int:
        return len(self.replicates) * len(self.shifts) * (2 if self.use_rc else 1)

    def predict(self, onehot: Tensor, tracks: Sequence[int] | None = None) -> Tensor:
        wanted = list(range(len(self.tracks))) if tracks is None else list(tracks)
        partners = [self.tracks.strand_pairs()[i] for i in wanted]
        total = None
        for model in self.replicates:
            for bp in self.shifts:
                x = shift(onehot, bp)
                out = model.predict(x, wanted)
                if self.use_rc:
                    out = out + model.predict(reverse_complement(x), partners).flip(dims=(1,))
                total = out if total is None else total + out
        return total / self.passes_per_sequence

    def embed(self, onehot: Tensor) -> Tensor:
        return self.replicates[0].embed(onehot)

    @property
    def attention_layers(self) -> int:
        return self.replicates[0].attention_layers

    def attention(self, onehot: Tensor, layer: int) -> Tensor:
        return self.replicates[0].attention(onehot, layer)
