"""The model contract every architecture adapter speaks, and the track table.

Canonical input is one-hot ``(B, L, 4)`` float32 in A, C, G, T order (N = all zeros; see
genomeweb.genomics.encoding). ``predict`` returns ``(B, bins, tracks)`` on the *counts* scale:
each adapter undoes its model's output transform (Borzoi's squashed scale), so scores can sum
predicted coverage directly (MODEL_NOTES.md, "Calico's variant scores").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

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

    def check_input(self, onehot: Tensor) -> Tensor:
        if onehot.ndim != 3 or onehot.shape[1:] != (self.sequence_length, 4):
            raise ValueError(
                f"{self.name} takes (B, {self.sequence_length}, 4) one-hot input, "
                f"got {tuple(onehot.shape)}"
            )
        return onehot.to(self.device, dtype=torch.float32)


def untransform_borzoi(y: Tensor, tracks: Sequence[Track], *, legacy: bool = False) -> Tensor:
    """Undo Borzoi's target transform on ``(..., T)`` predictions, back to counts.

    New (published) weights: ``y / scale``, then above ``clip_soft`` ``c + (y − c)²``, then
    ``y^(4/3)`` for ``sum_sqrt`` tracks... see MODEL_NOTES.md; ``legacy`` selects the order used
    by the first Borzoi release, which squared before removing the scale.
    """
    scale = y.new_tensor([t.scale for t in tracks])
    clip = y.new_tensor([t.clip_soft if t.clip_soft is not None else float("inf") for t in tracks])
    sqrt = y.new_tensor([t.sum_stat == "sum_sqrt" for t in tracks], dtype=torch.bool)
    if legacy:
        y = torch.where(y > clip, clip + (y - clip) ** 2, y)
        y = torch.where(sqrt, y.clamp(min=0) ** (4 / 3), y)
        return y / scale
    y = y / scale
    y = torch.where(y > clip, clip + (y - clip) ** 2, y)
    return torch.where(sqrt, y.clamp(min=0) ** (4 / 3), y)
