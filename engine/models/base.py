"""The model contract every architecture adapter speaks, and the track table.

Canonical input is one-hot ``(B, L, 4)`` float32 in A, C, G, T order (N = all zeros; see
engine.io.encoding). ``predict`` returns ``(B, bins, tracks)`` on the *counts* scale:
each adapter undoes its model's output transform (Borzoi's squashed scale), so scores can sum
predicted coverage directly (MODEL_NOTES.md, "Calico's variant scores").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True)
class Track:
    """One output track. ``strand_pair`` is the index of the opposite-strand track (itself for
    unstranded tracks); the transform fields follow Borzoi's targets table."""

    identifier: str
    description: str = ""
    strand: str = "."  # "+", "-" or "."
    strand_pair: int = -1
    scale: float = 1.0
    clip_soft: float | None = None
    sum_stat: str = "sum"  # "sum" or "sum_sqrt" (predicted on a square-root scale)


@dataclass(frozen=True)
class GeneRegion:
    """The bins a model's gene-level scores (SED, logSED) and gene objectives sum over.

    RNA-seq reads cover a gene's exons, so Borzoi's gene-level scores sum its exon bins (the
    default here). A TSS assay (CAGE, STRIPE-seq) counts reads where transcription starts: in an
    annotation of coding loci, such as yeast's, those lie upstream of the annotated start, so a
    model of such an assay sums a window around the gene's start instead (Basenji's SED took
    the TSS bin). Summing a TSS model's exons would mostly score the gene body, where it
    predicts almost nothing.
    """

    upstream: int | None = None  # bp before the start, on the gene's strand; None: the exons
    downstream: int = 0  # bp from the start into the gene

    @property
    def is_exons(self) -> bool:
        return self.upstream is None

    @property
    def reach(self) -> int:
        """How far beyond the gene's body the region can reach, in bp."""
        return self.upstream or 0

    def describe(self) -> str:
        if self.is_exons:
            return "its exon bins"
        return f"the bins from {self.upstream} bp before its start to {self.downstream} bp into it"

    def to_config(self) -> dict | None:
        return None if self.is_exons else {"upstream": self.upstream, "downstream": self.downstream}

    @classmethod
    def from_config(cls, raw: dict | None) -> GeneRegion:
        """``None`` (exons) or ``{"upstream": bp, "downstream": bp}``, as in a config.json."""
        if raw is None:
            return EXONS
        upstream, downstream = int(raw["upstream"]), int(raw["downstream"])
        if upstream < 0 or downstream < 0 or upstream + downstream == 0:
            raise ValueError(f"a gene start window needs non-negative, non-empty bp, got {raw}")
        return cls(upstream, downstream)


EXONS = GeneRegion()


@dataclass
class TrackTable:
    tracks: list[Track]
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {t.identifier: i for i, t in enumerate(self.tracks)}
        for i, track in enumerate(self.tracks):
            if not 0 <= track.strand_pair < len(self.tracks):
                raise ValueError(f"track {i} ({track.identifier}) has no valid strand pair")

    def __len__(self) -> int:
        return len(self.tracks)

    def indices(self, identifiers: Sequence[str]) -> list[int]:
        missing = [i for i in identifiers if i not in self._index]
        if missing:
            raise KeyError(f"unknown tracks: {', '.join(missing[:5])}")
        return [self._index[i] for i in identifiers]

    def strand_pairs(self) -> list[int]:
        return [t.strand_pair for t in self.tracks]


class ModelAdapter(ABC):
    """A loaded model behind the contract. Subclasses set the attributes in ``__init__``."""

    name: str
    sequence_length: int
    bin_size: int
    crop_bp: int  # input bp on each side with no output bins
    tracks: TrackTable
    device: torch.device

    @property
    def output_bins(self) -> int:
        return (self.sequence_length - 2 * self.crop_bp) // self.bin_size

    @abstractmethod
    def predict(self, onehot: Tensor, tracks: Sequence[int] | None = None) -> Tensor:
        """``(B, L, 4)`` → ``(B, bins, T)`` counts for ``tracks`` (all when None)."""

    @abstractmethod
    def embed(self, onehot: Tensor) -> Tensor:
        """``(B, L, 4)`` → ``(B, N, D)``: the per-token representation before the heads."""

    @property
    @abstractmethod
    def attention_layers(self) -> int:
        """How many transformer layers ``attention`` can read."""

    @abstractmethod
    def attention(self, onehot: Tensor, layer: int) -> Tensor:
        """``(B, L, 4)`` → ``(B, heads, N, N)`` softmax weights of one transformer layer."""

    #: whether ``predict_reference`` / ``predict_substitutions`` are implemented
    supports_substitutions: bool = False

    #: what its gene-level scores and gene objectives sum (exons unless its tracks say else)
    gene_region: GeneRegion = EXONS

    #: its published log scores add 1 to predictions still multiplied by each track's
    #: ``scale`` (Calico's Borzoi convention), so its pseudocount is ``1 / scale`` counts
    scaled_pseudocount: bool = False

    def log_pseudocounts(self, tracks: Sequence[int]) -> np.ndarray:
        """The pseudocount, in counts, that the log scores add on each of ``tracks``
        (``engine.variants.scorers``): 1, or ``1 / scale`` for ``scaled_pseudocount``."""
        if not self.scaled_pseudocount:
            return np.ones(len(tracks), dtype=np.float32)
        return np.array([1 / self.tracks.tracks[t].scale for t in tracks], dtype=np.float32)

    def describe_pseudocount(self) -> str:
        """``log_pseudocounts`` in words, for the exports' headers."""
        if not self.scaled_pseudocount:
            return "1 count"
        return "1 / the track's scale in counts, i.e. 1 in Calico's scaled units"

    def predict_reference(
        self, onehot: Tensor, tracks: Sequence[int] | None = None
    ) -> tuple[Tensor, object]:
        """``predict`` that also returns the state ``predict_substitutions`` reuses."""
        raise NotImplementedError(f"{self.name} has no fast path for substitutions")

    def predict_substitutions(
        self,
        state: object,
        group: Tensor,
        alt: Tensor,
        first: Tensor,
        width: int,
        tracks: Sequence[int] | None = None,
    ) -> Tensor:
        """``predict(alt)`` for sequences that differ from the reference windows of ``state``
        only in ``[first, first + width)``, reusing the reference's computation elsewhere
        (fast in silico mutagenesis: SNVs, MNVs, every ISM mutant).

        Args:
            state: from ``predict_reference`` of ``W`` reference windows.
            group: ``(b,)`` the reference window (0 … W − 1) of each alternative.
            alt: ``(b, L, 4)`` the alternative one-hots.
            first: ``(b,)`` the first position that may differ from the reference.
            width: how many positions from ``first`` may differ, the same for the batch.
            tracks: as ``predict``.
        """
        raise NotImplementedError(f"{self.name} has no fast path for substitutions")

    def check_input(self, onehot: Tensor) -> Tensor:
        if onehot.ndim != 3 or onehot.shape[1:] != (self.sequence_length, 4):
            raise ValueError(
                f"{self.name} takes (B, {self.sequence_length}, 4) one-hot input, "
                f"got {tuple(onehot.shape)}"
            )
        return onehot.to(self.device, dtype=torch.float32)


def untransform_borzoi(y: Tensor, tracks: Sequence[Track], *, legacy: bool = False) -> Tensor:
    """Undo Borzoi's target transform on ``(..., T)`` predictions, back to coverage counts.

    baskerville's ``hound_data_read.py`` defines two target transforms; Calico's
    ``untransform_preds1`` and ``untransform_preds`` invert them. With ``c = clip_soft``:

    - ``legacy=True``, the Borzoi manuscript's transform (``--transform_old``), which the
      published Borzoi and Flashzoi weights were trained on. Forward: sum the coverage over the
      bin, ``y^(3/4)`` for ``sum_sqrt`` tracks, above ``c`` soft clip to ``c + sqrt(y − c)``,
      then multiply by ``scale``. Inverse: ``y / scale``; above ``c``, ``c + (y − c)²``;
      ``sum_sqrt`` tracks ``y^(4/3)``.
    - ``legacy=False``, baskerville's current transform. Forward: multiply the coverage by
      ``scale``, sum over the bin, ``sqrt(1 + y) − 1`` for ``sum_sqrt`` tracks, above ``c`` soft
      clip to ``c − 1 + sqrt(y − c + 1)``. Inverse: above ``c``, ``c − 1 + (y − c + 1)²``;
      ``sum_sqrt`` tracks ``(y + 1)² − 1``; then ``y / scale``.

    Both return unscaled coverage. Calico's functions by default (``unscale=False``) leave the
    result multiplied by ``scale``; multiply back to reproduce their logSED numbers, whose +1
    pseudocount makes them depend on it.

    Args:
        y: ``(..., T)`` model outputs on the transformed scale (softplus, so ≥ 0).
        tracks: the ``T`` tracks of the last axis, in order.
        legacy: the manuscript transform (published weights) rather than the current one.

    Returns:
        ``(..., T)`` coverage counts.
    """
    scale = y.new_tensor([t.scale for t in tracks])
    clip = y.new_tensor([t.clip_soft if t.clip_soft is not None else float("inf") for t in tracks])
    sqrt = y.new_tensor([t.sum_stat == "sum_sqrt" for t in tracks], dtype=torch.bool)
    # min(y, c) + f(excess) rather than torch.where: no inf - inf in the branch not taken, so
    # saliency gradients stay finite for tracks without a clip_soft.
    if legacy:
        y = y / scale
        excess = (y - clip).clamp(min=0)
        y = torch.minimum(y, clip) + excess**2
        return torch.where(sqrt, y.clamp(min=0) ** (4 / 3), y)
    # (x + 1)² − 1 written as x (x + 2): no cancellation for small x.
    excess = (y - clip).clamp(min=0)
    y = torch.minimum(y, clip) + excess * (excess + 2)
    y = torch.where(sqrt, y * (y + 2), y)
    return y / scale
