import math
from pathlib import Path

import numpy as np
import pytest

from engine.interpret.motifs import (
    MotifMatch,
    PositionWeightMatrix,
    important_segments,
    label_segments,
    load_matrices,
    pwm_from_counts,
    scan,
    tax_group_for_species,
    write_bed,
)
from engine.io.encoding import reverse_complement

# Nine sites per column, so the pseudocount is sqrt(9) = 3, 0.75 per base, over 12 in all:
# a count of 9 gives p = 9.75 / 12 = 0.8125, 3 gives 0.3125 and 0 gives 0.0625 (-2 bits).
TINY_COUNTS = np.array([[9, 0, 0, 0], [3, 3, 3, 0]])  # column 1: A only; column 2: not T
BEST_A = math.log2(0.8125 / 0.25)
SHARED = math.log2(0.3125 / 0.25)


def random_sequence(length: int, seed: int = 0) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), size=length))


def consensus(matrix: PositionWeightMatrix) -> str:
    return "".join("ACGT"[i] for i in matrix.log_odds.argmax(axis=1))


def planted(sequence: str, motif: str, at: int) -> str:
    return sequence[:at] + motif + sequence[at + len(motif) :]


@pytest.fixture(scope="module")
def fungi() -> list[PositionWeightMatrix]:
    return load_matrices("fungi")


@pytest.fixture(scope="module")
def gal4(fungi: list[PositionWeightMatrix]) -> PositionWeightMatrix:
    return next(m for m in fungi if m.name == "GAL4")


# --- JASPAR --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("species", "group"),
    [
        ("Saccharomyces cerevisiae", "fungi"),
        ("Saccharomyces cerevisiae S288C", "fungi"),
        ("Schizosaccharomyces pombe", "fungi"),
        ("Homo sapiens", "vertebrates"),
        ("Mus musculus", "vertebrates"),
        ("Drosophila melanogaster", "insects"),
        ("Drosophila", "insects"),
        ("Arabidopsis thaliana", "plants"),
        ("Caenorhabditis elegans", "nematodes"),
        ("yeast", "fungi"),
        ("human (GRCh38)", "vertebrates"),
        ("Klingon targ", None),
        ("", None),
    ],
)
def test_tax_group_for_species_uses_jaspar_names(species: str, group: str | None) -> None:
    assert tax_group_for_species(species) == group


def test_the_yeast_group_has_the_well_known_yeast_factors(
    fungi: list[PositionWeightMatrix],
) -> None:
    assert len(fungi) > 100
    assert {"GAL4", "SPT15", "REB1", "ABF1", "RAP1"} <= {m.name for m in fungi}


def test_only_the_latest_version_of_each_matrix_is_loaded(
    fungi: list[PositionWeightMatrix],
) -> None:
    base_ids = [m.matrix_id.split(".")[0] for m in fungi]
    assert len(base_ids) == len(set(base_ids))
    assert next(m for m in fungi if m.name == "REB1").matrix_id == "MA0363.3"


def test_matrices_are_float32_log_odds_with_their_score_range(
    fungi: list[PositionWeightMatrix],
) -> None:
    for matrix in fungi:
        assert matrix.log_odds.dtype == np.float32
        assert matrix.log_odds.shape == (matrix.width, 4)
        assert matrix.min_score == pytest.approx(matrix.log_odds.min(axis=1).sum())
        assert matrix.max_score == pytest.approx(matrix.log_odds.max(axis=1).sum())
        assert matrix.min_score < 0 < matrix.max_score


def test_loading_is_cached_and_the_cache_cannot_be_corrupted() -> None:
    first = load_matrices("fungi")
    assert load_matrices("fungi") is first
    with pytest.raises(ValueError, match="read-only"):
        first[0].log_odds[0, 0] = 99.0


def test_a_tax_group_jaspar_does_not_have_loads_nothing() -> None:
    assert load_matrices("klingons") == []


def test_no_tax_group_means_all_of_core(fungi: list[PositionWeightMatrix]) -> None:
    everything = {m.matrix_id for m in load_matrices(None)}
    assert {m.matrix_id for m in fungi} < everything


# --- scoring -------------------------------------------------------------------------------


def test_log_odds_match_a_hand_computation() -> None:
    matrix = pwm_from_counts("MX0001.1", "TINY", TINY_COUNTS)
    expected = [[BEST_A, -2, -2, -2], [SHARED, SHARED, SHARED, -2]]
    np.testing.assert_allclose(matrix.log_odds, expected, rtol=1e-6)
    assert matrix.min_score == pytest.approx(-4)
    assert matrix.max_score == pytest.approx(BEST_A + SHARED)


def test_scan_scores_both_strands_by_hand() -> None:
    matrix = pwm_from_counts("MX0001.1", "TINY", TINY_COUNTS)
    span = BEST_A + SHARED + 4
    matches = scan("AGCTT", [matrix], min_relative=0)
    by_site = {(m.start, m.strand): m for m in matches}
    assert len(matches) == 8  # 4 windows x 2 strands; none runs off the end
    assert by_site[(0, "+")].score == pytest.approx(BEST_A + SHARED)  # AG
    assert by_site[(0, "+")].relative_score == pytest.approx(1.0)
    assert by_site[(0, "-")].score == pytest.approx(-4)  # the minus strand reads CT
    assert by_site[(0, "-")].relative_score == pytest.approx(0.0, abs=1e-6)
    assert by_site[(1, "+")].relative_score == pytest.approx((-2 + SHARED + 4) / span)  # GC
    assert by_site[(2, "-")].score == pytest.approx(BEST_A + SHARED)  # CT reads AG on minus
    assert by_site[(3, "+")].score == pytest.approx(-4)  # TT
    assert by_site[(3, "-")].score == pytest.approx(BEST_A + SHARED)  # TT reads AA on minus
    assert (by_site[(3, "-")].start, by_site[(3, "-")].end) == (3, 5)


def test_an_unknown_base_scores_its_column_mean() -> None:
    matrix = pwm_from_counts("MX0001.1", "TINY", TINY_COUNTS)
    (match,) = [m for m in scan("AN", [matrix], min_relative=0) if m.strand == "+"]
    assert match.score == pytest.approx(BEST_A + (3 * SHARED - 2) / 4)


def test_scan_ignores_sequences_shorter_than_the_matrix(gal4: PositionWeightMatrix) -> None:
    assert scan(consensus(gal4)[:-1], [gal4], min_relative=0) == []
    assert scan("", [gal4]) == []


def test_scan_finds_a_planted_consensus_on_the_plus_strand(gal4: PositionWeightMatrix) -> None:
    sequence = planted(random_sequence(400), consensus(gal4), 120)
    hits = [m for m in scan(sequence, [gal4], min_relative=0.99) if m.strand == "+"]
    assert [(m.start, m.end) for m in hits] == [(120, 120 + gal4.width)]
    assert hits[0].relative_score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].score == pytest.approx(gal4.max_score, abs=1e-4)


def test_a_minus_strand_match_is_reported_in_plus_strand_coordinates(
    gal4: PositionWeightMatrix,
) -> None:
    sequence = planted(random_sequence(400), reverse_complement(consensus(gal4)), 200)
    hits = [m for m in scan(sequence, [gal4], min_relative=0.99) if m.strand == "-"]
    assert [(m.start, m.end) for m in hits] == [(200, 200 + gal4.width)]
    assert hits[0].relative_score == pytest.approx(1.0, abs=1e-5)


def test_scan_finds_every_fungal_consensus_it_is_given(fungi: list[PositionWeightMatrix]) -> None:
    background = random_sequence(60, seed=3)
    for matrix in fungi[:40]:
        sequence = planted(background, consensus(matrix), 20)
        assert any(
            m.matrix_id == matrix.matrix_id and m.start == 20 and m.strand == "+"
            for m in scan(sequence, [matrix], min_relative=0.999)
        ), matrix.matrix_id


def test_motif_match_label_names_factor_and_matrix() -> None:
    match = MotifMatch("MA0299.1", "GAL4", 0, 15, "+", 17.7, 1.0)
    assert match.label == "GAL4 (MA0299.1)"


# --- important segments --------------------------------------------------------------------


def test_a_block_in_noise_is_found_with_its_bounds() -> None:
    importance = np.random.default_rng(0).normal(0, 0.05, 1_000)
    importance[400:412] = -1.0  # sign does not matter
    assert important_segments(importance, pad=3) == [(397, 415)]
    assert important_segments(importance, pad=0) == [(400, 412)]


@pytest.mark.parametrize("length", [200, 8_192, 131_072])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pure_gaussian_noise_has_no_important_segments(length: int, seed: int) -> None:
    importance = np.random.default_rng(seed).normal(size=length)
    assert important_segments(importance) == []


@pytest.mark.parametrize("importance", [np.zeros(1_000), np.ones(1_000), np.zeros(0)])
def test_flat_or_empty_importance_has_no_segments(importance: np.ndarray) -> None:
    assert important_segments(importance) == []


def test_stretches_a_few_bases_apart_merge() -> None:
    importance = np.zeros(500)
    importance[100:106] = 1.0
    importance[109:115] = 1.0  # 3-base gap: one segment
    importance[300:306] = 1.0
    importance[316:322] = 1.0  # 10-base gap: two
    assert important_segments(importance, pad=0) == [(100, 115), (300, 306), (316, 322)]


def test_a_lone_spike_is_not_a_segment() -> None:
    importance = np.zeros(500)
    importance[100:110] = 1.0
    importance[300] = 1.0
    assert important_segments(importance, pad=0) == [(100, 110)]


def test_only_the_strongest_segments_are_kept_in_position_order() -> None:
    importance = np.zeros(3_000)
    strengths = [1.0, 3.0, 2.0, 5.0, 4.0, 1.5]
    for index, strength in enumerate(strengths):
        importance[100 + 400 * index : 108 + 400 * index] = strength
    segments = important_segments(importance, pad=0, limit=3)
    assert segments == [(500, 508), (1300, 1308), (1700, 1708)]  # strengths 3, 5 and 4


def test_non_finite_values_count_as_zero() -> None:
    importance = np.zeros(300)
    importance[50:60] = 1.0
    importance[200] = np.nan
    importance[250] = np.inf
    assert important_segments(importance, pad=0) == [(50, 60)]


def test_importance_must_be_one_value_per_base() -> None:
    with pytest.raises(ValueError, match="one value per base"):
        important_segments(np.zeros((100, 4)))


def test_a_borzoi_sized_saliency_map_is_handled() -> None:
    rng = np.random.default_rng(7)
    importance = rng.normal(0, 0.01, 524_288)
    starts = np.sort(rng.choice(np.arange(1_000, 520_000, 1_000), size=30, replace=False))
    for start in starts:
        importance[start : start + 8] = rng.uniform(0.5, 1.0)
    segments = important_segments(importance, pad=0)
    assert len(segments) == 20
    assert {start for start, _ in segments} <= set(starts.tolist())


# --- labelling -----------------------------------------------------------------------------


def test_the_planted_motif_labels_its_important_segment(
    fungi: list[PositionWeightMatrix], gal4: PositionWeightMatrix
) -> None:
    sequence = planted(random_sequence(1_000, seed=5), consensus(gal4), 500)
    importance = np.random.default_rng(5).normal(0, 0.01, 1_000)
    importance[500 : 500 + gal4.width] = 1.0
    labels = label_segments(sequence, importance, fungi, offset=10_000)
    assert labels[0].matrix_id == gal4.matrix_id
    assert (labels[0].start, labels[0].end, labels[0].strand) == (
        10_500,
        10_500 + gal4.width,
        "+",
    )
    assert labels[0].importance == pytest.approx(importance[500 : 500 + gal4.width].sum())
    assert len(labels) <= 2
    assert all(10_490 <= m.start and m.end <= 10_525 for m in labels)


def test_labels_within_a_segment_do_not_overlap(fungi: list[PositionWeightMatrix]) -> None:
    sequence = random_sequence(2_000, seed=11)
    importance = np.zeros(2_000)
    importance[800:860] = 1.0
    labels = label_segments(sequence, importance, fungi, per_segment=3, min_relative=0.8)
    assert 1 <= len(labels) <= 3
    spans = sorted((m.start, m.end) for m in labels)
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))


def test_no_important_segment_means_no_labels(fungi: list[PositionWeightMatrix]) -> None:
    assert label_segments("ACGT" * 50, np.zeros(200), fungi) == []


def test_label_segments_wants_one_importance_per_base(fungi: list[PositionWeightMatrix]) -> None:
    with pytest.raises(ValueError, match="like the sequence"):
        label_segments("ACGT", np.zeros(5), fungi)


# --- BED -----------------------------------------------------------------------------------


def test_bed_output_is_sorted_bed6_with_integer_scores(tmp_path: Path) -> None:
    matches = [
        MotifMatch("MA0363.3", "REB1", 40, 49, "-", 9.0, 0.8766),
        MotifMatch("MA0299.1", "GAL4", 10, 25, "+", 17.7, 1.0000001),
        MotifMatch("MX0001.1", "odd\tname\n", 20, 22, "+", 0.1, 0.0),
    ]
    path = tmp_path / "motifs.bed"
    path.write_text("stale\n")  # replaced, not appended to
    assert write_bed(matches, "XV", path) == path

    rows = [line.split("\t") for line in path.read_text().splitlines()]
    assert [len(row) for row in rows] == [6, 6, 6]
    assert [row[1] for row in rows] == ["10", "20", "40"]
    assert rows[0] == ["XV", "10", "25", "GAL4 (MA0299.1)", "1000", "+"]
    assert rows[1][3] == "odd name  (MX0001.1)"
    assert rows[2][4] == "877"
    assert all(0 <= int(row[4]) <= 1000 for row in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motifs.bed"]  # no temp file left


def test_no_matches_write_an_empty_bed(tmp_path: Path) -> None:
    path = write_bed([], "I", tmp_path / "empty.bed")
    assert path.read_text() == ""
