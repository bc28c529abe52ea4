"""Reverse-complement ensembling with a tiny hand-made adapter whose outputs can be counted by
eye: 8 bp in, 4 bins of 2 bp, three tracks."""

from collections.abc import Sequence

import torch
from torch import Tensor

from engine.io.encoding import one_hot_batch
from engine.models.base import ModelAdapter, Track, TrackTable
from engine.models.ensemble import Ensemble, reverse_complement

TRACKS = TrackTable(
    [
        Track("A.plus", strand="+", strand_pair=1),  # A on the + strand, per bin
        Track("A.minus", strand="-", strand_pair=0),  # A on the - strand = T on the + strand
        Track("weighted_G", strand_pair=2),  # unstranded, but not reverse-complement symmetric
    ]
)


class CountingAdapter(ModelAdapter):
    """Per-bin base counts; the third track weighs each G by its position (1..8), so the model
    itself gives different answers for a sequence and its reverse complement."""

    def __init__(self) -> None:
        self.name, self.tracks, self.device = "counting", TRACKS, torch.device("cpu")
        self.sequence_length, self.bin_size, self.crop_bp = 8, 2, 0

    def predict(self, onehot: Tensor, tracks: Sequence[int] | None = None) -> Tensor:
        x = self.check_input(onehot)  # (B, 8, 4)
        weight = torch.arange(1.0, 9.0)[None, :]  # (1, 8)
        per_base = torch.stack([x[..., 0], x[..., 3], x[..., 2] * weight], dim=-1)  # (B, 8, 3)
        out = per_base.reshape(len(x), 4, 2, 3).sum(dim=2)  # (B, bins, 3)
        return out if tracks is None else out[..., list(tracks)]

    def embed(self, onehot: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def attention_layers(self) -> int:
        return 0

    def attention(self, onehot: Tensor, layer: int) -> Tensor:
        raise NotImplementedError


def encode(*sequences: str) -> Tensor:
    return torch.from_numpy(one_hot_batch(sequences))  # (B, 8, 4)


SEQUENCES = encode("AACGTTTA", "GGATCCGA")


def test_the_counting_model_alone_is_not_symmetric() -> None:
    model = CountingAdapter()
    forward = model.predict(SEQUENCES)
    flipped_rc = model.predict(reverse_complement(SEQUENCES)).flip(dims=(1,))
    assert not torch.equal(forward[..., 2], flipped_rc[..., 2])


def test_rc_ensemble_of_an_unstranded_track_is_symmetric() -> None:
    ensemble = Ensemble([CountingAdapter()])
    forward = ensemble.predict(SEQUENCES)
    flipped_rc = ensemble.predict(reverse_complement(SEQUENCES)).flip(dims=(1,))
    assert torch.equal(forward[..., 2], flipped_rc[..., 2])


def test_rc_ensemble_reads_a_stranded_track_from_its_strand_partner() -> None:
    # "AA CG TT TA": + strand A per bin 2,0,0,1; - strand A (T on +) 0,0,2,1. A strand-aware
    # model is exactly right on both passes, so the mean must equal the counts; without the
    # swap track 0 would average A and T.
    out = Ensemble([CountingAdapter()]).predict(encode("AACGTTTA"))
    assert out[0, :, 0].tolist() == [2.0, 0.0, 0.0, 1.0]
    assert out[0, :, 1].tolist() == [0.0, 0.0, 2.0, 1.0]


def test_rc_ensemble_swaps_partners_for_a_subset_of_tracks() -> None:
    out = Ensemble([CountingAdapter()]).predict(encode("AACGTTTA"), tracks=[1])
    assert out[0, :, 0].tolist() == [0.0, 0.0, 2.0, 1.0]


def test_a_stranded_pair_maps_onto_its_partner_under_reverse_complement() -> None:
    ensemble = Ensemble([CountingAdapter()])
    forward = ensemble.predict(SEQUENCES)
    flipped_rc = ensemble.predict(reverse_complement(SEQUENCES)).flip(dims=(1,))
    assert torch.equal(forward[..., [0, 1]], flipped_rc[..., [1, 0]])
