"""Ensembling that wraps any adapter: reverse complement, input shifts, replicates (folds).

Each option multiplies the forward passes, so each is a parameter of the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

from engine.models.base import ModelAdapter


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


def _orient(onehot: Tensor, bp: int, rc: bool) -> Tensor:
    """The input of one pass: shifted by ``bp``, then reverse-complemented when ``rc``."""
    x = shift(onehot, bp)
    return reverse_complement(x) if rc else x


PassFunction = Callable[[ModelAdapter, int, bool, list[int]], Tensor]


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
        orientations = (False, True) if reverse_complement else (False,)
        self._setup(replicates, tuple((bp, rc) for bp in shifts for rc in orientations))

    def _setup(self, replicates: Sequence[ModelAdapter], orients: tuple[tuple[int, bool], ...]):
        first = replicates[0]
        self.replicates = list(replicates)
        self.orients = orients  # (shift, reverse complement) of each pass of a replicate
        self.use_rc = any(rc for _, rc in orients)
        self.shifts = tuple(dict.fromkeys(bp for bp, _ in orients))
        self.name, self.tracks, self.device = first.name, first.tracks, first.device
        self.gene_region, self.scaled_pseudocount = first.gene_region, first.scaled_pseudocount
        self.sequence_length, self.bin_size, self.crop_bp = (
            first.sequence_length,
            first.bin_size,
            first.crop_bp,
        )

    @classmethod
    def one_pass(cls, model: ModelAdapter, bp: int, rc: bool) -> Ensemble:
        """The pass of ``model`` on the input shifted by ``bp``, reverse-complemented when
        ``rc``, read back in forward orientation."""
        single = cls.__new__(cls)
        single._setup([model], ((bp, rc),))
        return single

    def passes_by_replicate(self) -> list[list[Ensemble]]:
        """Every pass as a one-pass ensemble, grouped by replicate (in ``_passes`` order).

        Scores are computed per pass and then averaged, Calico's order (MODEL_NOTES, "Calico's
        variant scores"), and the spread of the replicates' means is their uncertainty.
        """
        return [
            [Ensemble.one_pass(model, bp, rc) for bp, rc in self.orients]
            for model in self.replicates
        ]

    @property
    def passes_per_sequence(self) -> int:
        return len(self.replicates) * len(self.orients)

    @property
    def supports_substitutions(self) -> bool:
        return all(model.supports_substitutions for model in self.replicates)

    def _passes(self) -> Iterator[tuple[ModelAdapter, int, bool]]:
        """(replicate, shift, reverse complement) of every pass, always in the same order."""
        for model in self.replicates:
            for bp, rc in self.orients:
                yield model, bp, rc

    def _mean(self, tracks: Sequence[int] | None, run: PassFunction) -> Tensor:
        """The mean of ``run(model, shift, rc, pass tracks)`` over the passes, read back in
        forward orientation (a reverse-complement pass predicts the strand partners)."""
        wanted = list(range(len(self.tracks))) if tracks is None else list(tracks)
        partners = [self.tracks.strand_pairs()[i] for i in wanted]
        total = None
        for model, bp, rc in self._passes():
            out = run(model, bp, rc, partners if rc else wanted)
            out = out.flip(dims=(1,)) if rc else out
            total = out if total is None else total + out
        return total / self.passes_per_sequence

    def predict(self, onehot: Tensor, tracks: Sequence[int] | None = None) -> Tensor:
        def run(model: ModelAdapter, bp: int, rc: bool, wanted: list[int]) -> Tensor:
            return model.predict(_orient(onehot, bp, rc), wanted)

        return self._mean(tracks, run)

    def predict_reference(
        self, onehot: Tensor, tracks: Sequence[int] | None = None
    ) -> tuple[Tensor, list[object]]:
        states: list[object] = []

        def run(model: ModelAdapter, bp: int, rc: bool, wanted: list[int]) -> Tensor:
            out, state = model.predict_reference(_orient(onehot, bp, rc), wanted)
            states.append(state)
            return out

        return self._mean(tracks, run), states

    def predict_substitutions(
        self,
        state: object,
        group: Tensor,
        alt: Tensor,
        first: Tensor,
        width: int,
        tracks: Sequence[int] | None = None,
    ) -> Tensor:
        states = iter(state)  # one per pass, in the order of _passes
        length = self.sequence_length

        def run(model: ModelAdapter, bp: int, rc: bool, wanted: list[int]) -> Tensor:
            # The changed stretch moves with the shift (clamped: a stretch shifted partly out
            # of the window still covers what is left of it) and mirrors under RC.
            moved = (first + bp).clamp(0, length - width)
            moved = length - width - moved if rc else moved
            x = _orient(alt, bp, rc)
            return model.predict_substitutions(next(states), group, x, moved, width, wanted)

        return self._mean(tracks, run)

    def embed(self, onehot: Tensor) -> Tensor:
        return self.replicates[0].embed(onehot)

    @property
    def attention_layers(self) -> int:
        return self.replicates[0].attention_layers

    def attention(self, onehot: Tensor, layer: int) -> Tensor:
        return self.replicates[0].attention(onehot, layer)
