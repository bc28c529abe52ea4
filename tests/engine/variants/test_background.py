"""Percentiles and beyond-noise flags against a model's background of random SNVs."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.io.annotation import Gene
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.variants import background as bg
from engine.variants.background import (
    MIN_STRATUM,
    Background,
    calibrate,
    calibrate_scores,
    distance_strata,
    draw_null_snvs,
    placement_noise,
)
from engine.variants.exports import (
    summarize,
    write_annotated_vcf,
    write_scores_long_tsv,
    write_scores_npz,
    write_scores_wide_tsv,
)
from tests.engine.variants.test_exports import CONTIGS, TRACK_IDS, lines, make_scores, read_vcf

DATA = Path(__file__).resolve().parents[2] / "data"
PLUS = Gene("G1", "PLUS", "I", 1_000, 2_000, "+", "gene", ())
MINUS = Gene("G2", "MINUS", "I", 8_000, 9_000, "-", "gene", ())  # starts at 8,999


def snv(chrom: str, start: int) -> Variant:
    return Variant(chrom, start, "A", "C", "", 0)


def test_strata_measure_to_the_nearest_gene_start_on_its_strand():
    variants = [
        snv("I", 1_000),  # at PLUS's start: 0 bp
        snv("I", 1_249),  # 249 bp
        snv("I", 1_250),  # 250 bp: the next stratum
        snv("I", 8_999 - 999),  # 999 bp before MINUS's start (its end)
        snv("I", 4_999),  # 3,999 bp from PLUS, 4,000 from MINUS
        snv("I", 20_000),  # 11,001 bp from MINUS
        snv("II", 10),  # a contig without genes: the farthest stratum
    ]
    assert distance_strata(variants, [PLUS, MINUS]).tolist() == [0, 0, 1, 1, 2, 3, 3]


def background(values: np.ndarray, strata: list[int], noise: np.ndarray) -> Background:
    """A background over TRACK_IDS[:2] and scorers SUM, logSED."""
    return Background(
        ["SUM", "logSED"],
        TRACK_IDS[:2],
        values.astype(np.float32),
        np.asarray(strata, np.int64),
        noise.astype(np.float32),
        {"model": "tiny", "genome": "mini"},
    )


def test_a_percentile_is_the_share_of_its_strata_null_magnitudes_at_or_below_it():
    null = np.zeros((2 * MIN_STRATUM + 10, 2, 2))
    null[:MIN_STRATUM, 0, 0] = -np.arange(1, MIN_STRATUM + 1)  # stratum 0: |1| … |50|
    null[MIN_STRATUM : 2 * MIN_STRATUM, 0, 0] = np.arange(1, MIN_STRATUM + 1) * 10  # stratum 1
    null[2 * MIN_STRATUM :, 0, 0] = 1_000  # stratum 2: too few, pooled with everyone
    strata = [0] * MIN_STRATUM + [1] * MIN_STRATUM + [2] * 10
    noise = np.full((2, 2), 20.0)
    values = np.zeros((4, 3, 2))
    values[:, 0, 0] = [25, -25, 250, 25]
    values[0, 2, 0] = 1e9  # a track the background lacks
    found = calibrate(
        background(null, strata, noise),
        values,
        np.asarray([0, 0, 1, 2]),
        ["SUM", "logSED"],
        TRACK_IDS,
        "test",
    )
    assert found.percentile[:, 0, 0].tolist() == pytest.approx(
        [50.0, 50.0, 50.0, 27 / 110 * 100]  # pooled: |1|…|25| and 10, 20 of 110
    )
    assert found.beyond_noise[:, 0, 0].tolist() == [True, True, True, True]
    assert np.isnan(found.percentile[0, 2, 0]) and not found.beyond_noise[0, 2, 0]
    values[:, 0, 0] = 19.0
    quiet = calibrate(
        background(null, strata, noise), values, np.zeros(4, int), ["SUM"], TRACK_IDS[:1], "t"
    )
    assert not quiet.beyond_noise.any()


def test_an_unscored_allele_has_no_percentile():
    scores = make_scores()
    rows = np.abs(np.random.default_rng(0).normal(size=(60, 2, 2)))
    found = calibrate_scores(
        scores, background(rows, [0] * 60, np.ones((2, 2))), TRACK_IDS, [PLUS], "test"
    )
    assert np.isnan(found.calibration.percentile[2]).all()  # the unscored allele
    assert not np.isnan(found.calibration.percentile[0, :2]).any()
    assert np.isnan(found.calibration.percentile[0, 2]).all()  # dnase: not in the background


def test_a_background_survives_its_file(tmp_path):
    made = background(np.arange(24.0).reshape(6, 2, 2), [0, 1, 2, 3, 0, 1], np.ones((2, 2)))
    loaded = Background.load(made.save(tmp_path / "b.npz"))
    np.testing.assert_array_equal(loaded.values, made.values)
    assert (loaded.scorers, loaded.track_ids, loaded.about) == (
        made.scorers,
        made.track_ids,
        made.about,
    )
    assert loaded.strata.tolist() == [0, 1, 2, 3, 0, 1] and loaded.edges == bg.DISTANCE_EDGES
    assert "6 random SNVs of mini scored by tiny" in loaded.describe()


def test_null_snvs_are_real_reference_bases_balanced_over_strata_and_seeded():
    genome = Genome(DATA / "mini.fa.gz")
    genes = [Gene("G", "G", "I", 1_500, 1_900, "+", "gene", ())]  # none on II: far
    try:
        variants, strata = draw_null_snvs(genome, genes, per_stratum=4, seed=3)
        again, _ = draw_null_snvs(genome, genes, per_stratum=4, seed=3)
        for variant in variants:
            assert genome.fetch(Interval(variant.chrom, variant.start, variant.start + 1)) == (
                variant.ref
            )
            assert variant.alt in "ACGT" and variant.alt != variant.ref
    finally:
        genome.close()
    assert variants == again
    assert np.bincount(strata, minlength=4).tolist() == [4, 4, 4, 4]
    assert strata.tolist() == distance_strata(variants, genes).tolist()
    assert [(v.chrom, v.start) for v in variants] == sorted((v.chrom, v.start) for v in variants)


def test_placement_noise_is_the_95th_percentile_of_the_change():
    shared = np.zeros((100, 1, 1))
    centred = np.arange(100.0).reshape(100, 1, 1)
    assert placement_noise(shared, centred)[0, 0] == pytest.approx(94.05)


def calibrated_scores():
    """make_scores with hand percentiles: 10 × (track + 1) + scorer, flags on track 1."""
    scores = make_scores()
    percentile = np.fromfunction(lambda v, t, s: 10 * (t + 1) + s, (3, 3, 2)).astype(np.float32)
    percentile[2] = np.nan
    beyond = np.zeros((3, 3, 2), bool)
    beyond[:2, 1, :] = True
    return dataclasses.replace(
        scores, calibration=bg.Calibration(percentile, beyond, "12 random SNVs of mini")
    )


def test_the_exports_carry_a_percentile_beside_each_scorer(tmp_path):
    scores = calibrated_scores()
    long = lines(write_scores_long_tsv(scores, TRACK_IDS, tmp_path / "s.tsv"))
    assert long[0].split("\t")[5:] == [
        "track",
        "SUM",
        "SUM_pct",
        "logSED",
        "logSED_pct",
        "ref_sum",
        "alt_sum",
        "beyond_noise",
    ]
    assert long[2].split("\t")[5:8] + long[2].split("\t")[-1:] == [
        "t.minus",
        "-2",
        "20",
        "SUM,logSED",
    ]
    wide = lines(write_scores_wide_tsv(scores, TRACK_IDS, tmp_path / "w.tsv"))
    header = wide[0].split("\t")
    assert header.index("SUM_pct:t.minus") == header.index("logSED:dnase") + 2
    assert wide[1].split("\t")[header.index("logSED_pct:dnase")] == "31"

    path = tmp_path / "scored.vcf.gz"
    write_annotated_vcf(scores, TRACK_IDS, CONTIGS, path, model_name="tiny")
    header, records = read_vcf(path)
    assert "12 random SNVs of mini" in header.info["GW_SUM_PCT"].description
    assert header.info["GW_SUM_BEYOND_NOISE"].type == "Flag"
    info = dict(records[0].info)  # SUM peaks on t.minus (pct 20, beyond); logSED on dnase
    assert (info["GW_SUM_PCT"], info["GW_SUM_BEYOND_NOISE"]) == (20.0, True)
    assert info["GW_logSED_PCT"] == 31.0 and "GW_logSED_BEYOND_NOISE" not in info
    assert "GW_SUM_PCT" not in records[2].info  # unscored
    with np.load(write_scores_npz(scores, TRACK_IDS, tmp_path / "s.npz")) as npz:
        np.testing.assert_array_equal(npz["percentile"], scores.calibration.percentile)
        assert npz["beyond_noise"].dtype == bool and str(npz["background"]).startswith("12")


def test_the_summary_gives_the_rows_percentiles_at_its_track_and_each_maximums():
    first, second, unscored = summarize(calibrated_scores(), TRACK_IDS, "SUM")
    assert first["top_track"] == "t.minus" and first["scorer_track"]["logSED"] == "dnase"
    assert (first["primary_pct"], first["beyond_noise"]) == (20.0, True)
    assert first["top_track_pct"] == {"SUM": 20.0, "logSED": 21.0}
    assert first["scorer_pct"] == {"SUM": 20.0, "logSED": 31.0}
    assert (second["top_track"], second["primary_pct"], second["beyond_noise"]) == (
        "t.plus",
        10.0,
        False,
    )
    assert (unscored["primary_pct"], unscored["beyond_noise"]) == (None, None)
