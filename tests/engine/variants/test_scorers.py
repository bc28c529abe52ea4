"""The scorers against hand computations on tiny ref/alt profiles.

Two tracks over four bins, one variant (V = 1):

    track 0: R = [1, 3, 0, 4]  A = [1, 7, 0, 2]   ΣR = 8, ΣA = 10, A − R = [0, 4, 0, −2]
    track 1: R = [2, 2, 2, 2]  A = [2, .5, 2, 3]  ΣR = 8, ΣA = 7.5, A − R = [0, −1.5, 0, 1]
"""

import math

import numpy as np
import pytest
import torch

from engine.io.annotation import Exon, Gene
from engine.io.intervals import Interval
from engine.models.base import EXONS, GeneRegion, Track
from engine.variants.scorers import (
    SCORERS,
    exon_bins,
    gene_region_bins,
    gene_scores,
    percentile,
    score_all,
    start_window_bins,
    strand_mask,
)

REF = torch.tensor([[[1, 2], [3, 2], [0, 2], [4, 2]]], dtype=torch.float32)  # (1, 4 bins, 2)
ALT = torch.tensor([[[1, 2], [7, 0.5], [0, 2], [2, 3]]], dtype=torch.float32)
log2 = math.log2


def js(p: list[float], q: list[float]) -> float:
    """(KL(p‖q) + KL(q‖p)) / 2 written out term by term."""
    return sum((a - b) * math.log(a / b) for a, b in zip(p, q, strict=True)) / 2


# Track 0 JS: pseudocount = 25th percentile of [0, 1, 3, 4] = 0 + 0.75 · (1 − 0) = 0.75, so
# p = [1.75, 3.75, 0.75, 4.75] / 11 and q = [1.75, 7.75, 0.75, 2.75] / 13.
JS0 = js([1.75 / 11, 3.75 / 11, 0.75 / 11, 4.75 / 11], [1.75 / 13, 7.75 / 13, 0.75 / 13, 2.75 / 13])
# Track 1 JS: pseudocount 2, so p = [4, 4, 4, 4] / 16 and q = [4, 2.5, 4, 5] / 15.5.
JS1 = js([0.25] * 4, [4 / 15.5, 2.5 / 15.5, 4 / 15.5, 5 / 15.5])

EXPECTED = {
    "SUM": [10 - 8, 7.5 - 8],
    # Σ log2(A+1) − Σ log2(R+1): track 0 log2(8/4) + log2(3/5); track 1 log2(1.5/3) + log2(4/3)
    "logSUM": [1 + log2(3 / 5), -1 + log2(4 / 3)],
    "logSED": [log2(11) - log2(9), log2(8.5) - log2(9)],
    "D1": [4 + 2, 1.5 + 1],
    "D2": [math.sqrt(16 + 4), math.sqrt(2.25 + 1)],
    "logD1": [1 + abs(log2(3 / 5)), 1 + log2(4 / 3)],
    "logD2": [math.hypot(1, log2(3 / 5)), math.hypot(1, log2(4 / 3))],
    "SAX": [4, -1.5],  # the signed difference at the bin of largest |A − R|
    "JS": [JS0, JS1],
    "REF": [8, 8],
    "ALT": [10, 7.5],
}


def test_js_reference_values_were_worked_out_right():
    assert JS0 == pytest.approx(0.152842, abs=1e-6)
    assert JS1 == pytest.approx(0.028945, abs=1e-6)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_scorer_matches_the_hand_computation(name):
    score = SCORERS[name](REF, ALT)
    assert score.shape == (1, 2)
    np.testing.assert_allclose(score[0].numpy(), EXPECTED[name], rtol=1e-5, atol=1e-6)


def test_every_registered_scorer_has_a_hand_computation():
    assert set(SCORERS) == set(EXPECTED)


def test_identical_profiles_score_zero_everywhere():
    for name, scorer in SCORERS.items():
        if name not in ("REF", "ALT"):
            assert torch.equal(scorer(REF, REF), torch.zeros(1, 2)), name


def test_score_all_stacks_scorers_in_order_as_variants_tracks_scorers():
    ref, alt = REF.expand(3, -1, -1), ALT.expand(3, -1, -1)  # a shared ref, as the engine has
    scores = score_all(ref, alt, ["D1", "SUM"])
    assert scores.shape == (3, 2, 2)
    np.testing.assert_allclose(scores[2].numpy(), [[6, 2], [2.5, -0.5]])


def test_log_sed_keeps_a_tiny_effect_on_a_high_coverage_track():
    ref = torch.full((1, 100, 1), 1000.0)  # ΣR = 100,000: float32 spacing there is ~0.008
    alt = ref.clone()
    alt[0, 50, 0] += 0.01
    expected = math.log2((100_000 + 0.01 + 1) / (100_000 + 1))
    assert SCORERS["logSED"](ref, alt).item() == pytest.approx(expected, rel=1e-3)


def test_percentile_interpolates_like_numpy():
    x = torch.rand(3, 37, 5, generator=torch.Generator().manual_seed(0))
    for q in (0, 25, 50, 99, 100):
        expected = np.percentile(x.numpy(), q, axis=1)
        np.testing.assert_allclose(percentile(x, q, dim=1).numpy(), expected, rtol=1e-6)


def test_gene_scores_sum_exon_bins_on_strand_matched_tracks():
    gene_bins = torch.tensor([[0, 1, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)  # genes g0, g1
    strands = torch.tensor([[True, False], [True, True]])  # g0 is not scored on track 1
    sed, log_sed = gene_scores(REF, ALT, gene_bins, strands)
    assert sed.shape == log_sed.shape == (1, 2, 2)
    # g0, track 0: bins 1-2, ΣA = 7 + 0, ΣR = 3 + 0; g1: bin 3 only.
    np.testing.assert_allclose(sed[0].numpy(), [[4, np.nan], [2 - 4, 3 - 2]])
    expected = [[log2(8 / 4), np.nan], [log2(3 / 5), log2(4 / 3)]]
    np.testing.assert_allclose(log_sed[0].numpy(), expected, rtol=1e-6)


def test_gene_scores_are_nan_for_a_gene_with_no_bins_in_the_window():
    gene_bins = torch.zeros(1, 1, 4, dtype=torch.bool)  # per variant: (V, G, bins)
    sed, log_sed = gene_scores(REF, ALT, gene_bins, torch.ones(1, 2, dtype=torch.bool))
    assert torch.isnan(sed).all() and torch.isnan(log_sed).all()


def gene(gene_id: str, chrom: str, strand: str, exons: list[tuple[int, int]]) -> Gene:
    spans = tuple(Exon(s, e) for s, e in exons)
    return Gene(gene_id, gene_id, chrom, spans[0].start, spans[-1].end, strand, "gene", spans)


def test_exon_bins_round_exon_ends_to_bins_and_clip_to_the_window():
    output = Interval("I", 1000, 1000 + 8 * 32)  # 8 output bins of 32 bp
    genes = [
        gene("a", "I", "+", [(1010, 1050), (1200, 1400)]),  # 0.31→0 … 1.56→2; 6.25→6 … 12.5→8
        gene("b", "I", "-", [(1016, 1048)]),  # 0.5 and 1.5 round half to even: bins 0 … 2
        gene("c", "I", "+", [(800, 904)]),  # ends 3 bins before the window
        gene("d", "II", "+", [(1000, 1256)]),  # another contig
    ]
    mask = exon_bins(genes, output, 32)
    assert mask.shape == (4, 8)
    assert mask[0].nonzero()[0].tolist() == [0, 1, 6, 7]
    assert mask[1].nonzero()[0].tolist() == [0, 1]
    assert not mask[2].any() and not mask[3].any()


def test_a_start_window_takes_the_bins_it_overlaps_upstream_of_each_genes_start():
    output = Interval("I", 1000, 1000 + 32 * 32)  # 32 output bins of 32 bp
    region = GeneRegion(upstream=300, downstream=50)
    genes = [
        gene("plus", "I", "+", [(1500, 1800)]),  # window 1200-1550: bins 6.25 → 6 … 17.2 → 18
        gene("minus", "I", "-", [(1100, 1700)]),  # window 1650-2000: bins 20.3 → 20 … 31.25 → 32
        gene("edge", "I", "+", [(1100, 1200)]),  # window 800-1150: clipped to bins 0 … 5
        gene("far", "I", "-", [(200, 400)]),  # window 350-700, before the output
    ]
    mask = start_window_bins(genes, output, 32, region)
    assert mask[0].nonzero()[0].tolist() == list(range(6, 18))
    assert mask[1].nonzero()[0].tolist() == list(range(20, 32))
    assert mask[2].nonzero()[0].tolist() == list(range(0, 5))
    assert not mask[3].any()
    # the gene body itself (exon bins) is what an RNA-seq model scores instead
    assert np.array_equal(gene_region_bins(genes, output, 32, EXONS), exon_bins(genes, output, 32))
    assert np.array_equal(gene_region_bins(genes, output, 32, region), mask)


def test_a_start_window_is_the_model_cards_gene_level_window():
    from engine.training.metrics import TSS_WINDOW, gene_window_bins

    output = Interval("I", 0, 64 * 32)
    for strand, exons in (("+", [(700, 1000)]), ("-", [(300, 1013)])):
        g = gene("g", "I", strand, exons)
        first, last = gene_window_bins(g, 32)
        mask = start_window_bins([g], output, 32, TSS_WINDOW)[0]
        assert mask.nonzero()[0].tolist() == list(range(first, last))


@pytest.mark.parametrize(
    "raw", [{"upstream": -1, "downstream": 5}, {"upstream": 0, "downstream": 0}]
)
def test_a_gene_region_refuses_an_empty_or_negative_window(raw):
    with pytest.raises(ValueError, match="non-negative, non-empty"):
        GeneRegion.from_config(raw)


def test_a_gene_region_round_trips_through_a_config():
    assert GeneRegion.from_config(None) == EXONS and EXONS.to_config() is None
    region = GeneRegion.from_config({"upstream": 300, "downstream": 50})
    assert region.to_config() == {"upstream": 300, "downstream": 50}
    assert "300 bp before its start" in region.describe()


def test_strand_mask_matches_gene_strand_and_keeps_unstranded_tracks():
    tracks = [
        Track("p", strand="+", strand_pair=1),
        Track("m", strand="-", strand_pair=0),
        Track("u", strand=".", strand_pair=2),
    ]
    genes = [gene(g, "I", s, [(0, 10)]) for g, s in (("plus", "+"), ("minus", "-"), ("u", "."))]
    expected = [[True, False, True], [False, True, True], [True, True, True]]
    assert strand_mask(genes, tracks).tolist() == expected
