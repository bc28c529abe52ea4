"""untransform_borzoi: hand-computed values per branch, and the inverse of baskerville's forward
target transforms (``hound_data_read.py``: the manuscript's ``--transform_old`` and the current
one)."""

import math

import pytest
import torch

from engine.models.base import Track, untransform_borzoi

PLAIN = Track("plain", strand_pair=0, scale=0.5, clip_soft=4.0, sum_stat="sum")
SQRT = Track("sqrt", strand_pair=1, scale=0.5, clip_soft=4.0, sum_stat="sum_sqrt")
UNCLIPPED = Track("unclipped", strand_pair=2, scale=1.0, clip_soft=None, sum_stat="mean")


def untransform(values: list[float], track: Track, *, legacy: bool) -> list[float]:
    y = torch.tensor(values, dtype=torch.float64)[:, None]  # (N, T=1)
    return untransform_borzoi(y, [track], legacy=legacy)[:, 0].tolist()


def forward_legacy(coverage: torch.Tensor, track: Track) -> torch.Tensor:
    """The manuscript transform: 3/4 power, soft clip, then scale."""
    y = coverage**0.75 if track.sum_stat == "sum_sqrt" else coverage
    if track.clip_soft is not None:
        c = track.clip_soft
        y = torch.where(y > c, c + (y - c).clamp(min=0).sqrt(), y)
    return track.scale * y


def forward_current(coverage: torch.Tensor, track: Track) -> torch.Tensor:
    """The current transform: scale, square root shifted by 1, soft clip shifted by 1."""
    y = track.scale * coverage
    if track.sum_stat == "sum_sqrt":
        y = (1 + y).sqrt() - 1
    if track.clip_soft is not None:
        c = track.clip_soft
        y = torch.where(y > c, c - 1 + (y - c + 1).clamp(min=0).sqrt(), y)
    return y


# Published-track-like settings: RNA (sum_sqrt, scale 0.3 or 0.01), CAGE, ChIP (mean, clip 32).
TABLE = [
    Track("rna", strand_pair=0, scale=0.3, clip_soft=384.0, sum_stat="sum_sqrt"),
    Track("gtex", strand_pair=1, scale=0.01, clip_soft=384.0, sum_stat="sum_sqrt"),
    Track("cage", strand_pair=2, scale=1.0, clip_soft=384.0, sum_stat="sum"),
    Track("chip", strand_pair=3, scale=2.0, clip_soft=32.0, sum_stat="mean"),
    UNCLIPPED,
]


def test_legacy_divides_by_scale_then_unclips() -> None:
    # 1 / 0.5 = 2 stays below the clip; 3 / 0.5 = 6 becomes 4 + (6 - 4)² = 8.
    assert untransform([1.0, 3.0], PLAIN, legacy=True) == pytest.approx([2.0, 8.0])


def test_legacy_raises_sum_sqrt_tracks_to_four_thirds_after_unclipping() -> None:
    assert untransform([1.0, 3.0], SQRT, legacy=True) == pytest.approx([2 ** (4 / 3), 16.0])


def test_current_unclips_with_the_shift_by_one_then_divides_by_scale() -> None:
    # 6 becomes 4 - 1 + (6 - 4 + 1)² = 12, then 12 / 0.5 = 24.
    assert untransform([1.0, 6.0], PLAIN, legacy=False) == pytest.approx([2.0, 24.0])


def test_current_squares_sum_sqrt_tracks_shifted_by_one() -> None:
    # 1 → (1 + 1)² - 1 = 3 → 6; 6 → 12 → 13² - 1 = 168 → 336.
    assert untransform([1.0, 6.0], SQRT, legacy=False) == pytest.approx([6.0, 336.0])


def test_tracks_without_clip_soft_are_only_rescaled() -> None:
    assert untransform([100.0], UNCLIPPED, legacy=True) == [100.0]
    assert untransform([100.0], UNCLIPPED, legacy=False) == [100.0]


@pytest.mark.parametrize(("legacy", "forward"), [(True, forward_legacy), (False, forward_current)])
def test_it_inverts_the_forward_transform(legacy, forward) -> None:
    coverage = torch.cat([torch.linspace(0, 10, 101), torch.logspace(1, 6, 101)]).double()
    transformed = torch.stack([forward(coverage, t) for t in TABLE], dim=-1)  # (N, T)
    recovered = untransform_borzoi(transformed, TABLE, legacy=legacy)
    expected = coverage[:, None].expand_as(recovered)
    torch.testing.assert_close(recovered, expected, rtol=1e-9, atol=1e-9)


def test_legacy_matches_borzoi_pytorchs_undo_for_the_published_weights() -> None:
    from borzoi_pytorch.pytorch_borzoi_utils import undo_squashed_scale

    track = Track("gtex", strand_pair=0, scale=0.01, clip_soft=384.0, sum_stat="sum_sqrt")
    y = torch.linspace(0, 8, 33, dtype=torch.float64)  # / 0.01 crosses 384 at 3.84
    ours = untransform_borzoi(y[:, None], [track], legacy=True)[:, 0]
    # The package's defaults (scale 0.01, clip 384, power 3/4, old transform) are this track.
    torch.testing.assert_close(ours, undo_squashed_scale(y))


def test_gradients_stay_finite_for_tracks_without_clip_soft() -> None:
    y = torch.tensor([[0.5, 0.5, 0.5]], requires_grad=True)
    for legacy in (True, False):
        untransform_borzoi(y, [PLAIN, SQRT, UNCLIPPED], legacy=legacy).sum().backward()
        assert torch.isfinite(y.grad).all()
        assert math.isclose(y.grad[0, 2].item(), 1.0)  # scale 1, no clip: identity
        y.grad = None
