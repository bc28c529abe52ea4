"""Exports of variant scores, checked cell by cell on a small hand-made VariantScores."""

import dataclasses
from pathlib import Path

import numpy as np
import pysam
import pytest

from engine.io.annotation import Gene
from engine.io.vcf import Variant
from engine.variants import exports
from engine.variants.effects import (
    GeneScores,
    VariantScores,
    scores_from_arrays,
    scores_to_arrays,
)
from engine.variants.exports import (
    summarize,
    write_annotated_vcf,
    write_gene_tsv,
    write_scores_long_tsv,
    write_scores_npz,
    write_scores_wide_tsv,
)

NAN = np.nan
TRACK_IDS = ["t.plus", "t.minus", "dnase"]
CONTIGS = {"I": 5_000, "II": 3_000}
# Every value is a dyadic fraction: exact in float32, in "%.6g" and after a VCF round trip.
SCORES = [  # (V, T, S): SUM, logSED per track
    [[0.5, 0.125], [-2.0, 0.0625], [1.0, -0.375]],
    [[1.5, 0.25], [NAN, -0.5], [-1.25, 0.125]],
    [[NAN, NAN], [NAN, NAN], [NAN, NAN]],
]
REF_SUM = [[10, 20, 30], [40, 50, 60.5], [NAN, NAN, NAN]]
ALT_SUM = [[10.5, 18, 31], [41.5, 49, 59.25], [NAN, NAN, NAN]]
GENES = [
    Gene("YAL001C", "TFC3", "I", 0, 500, "-", "protein_coding", ()),
    Gene("YBR001C", "NTH2", "II", 100, 900, "-", "protein_coding", ()),
    Gene("YBR002W", "RER2", "II", 150, 700, "+", "protein_coding", ()),
]


def make_scores(genes: bool = True) -> VariantScores:
    """rs1 on I; a two-ALT record on II whose second (long) allele is unscored."""
    variants = [
        Variant("I", 99, "A", "G", "", 3),
        Variant("II", 199, "C", "T", "multi", 4),
        Variant("II", 199, "C", "C" + "A" * 30, "multi", 4),
    ]
    rows = ([0, 1, 1], [0, 1, 2], [7, 4, 7], [-1.5, 2.0, -3.0], [-0.625, 0.25, -0.75])
    if not genes:
        rows = ([], [], [], [], [])
    integers = [np.array(row, np.int64) for row in rows[:3]]
    floats = [np.array(row, np.float32) for row in rows[3:]]
    return VariantScores(
        variants=variants,
        scorers=["SUM", "logSED"],
        tracks=[4, 7, 9],
        scores=np.array(SCORES, np.float32),
        ref_sum=np.array(REF_SUM, np.float32),
        alt_sum=np.array(ALT_SUM, np.float32),
        genes=GENES if genes else [],
        gene_scores=GeneScores(*integers, *floats),
        unscored=[2],
    )


def with_replicates(scores: VariantScores) -> VariantScores:
    """``scores`` as the mean of two replicates whose spread is a quarter of each |score|
    (gene logSED: an eighth)."""
    gene = scores.gene_scores
    spread = np.abs(scores.scores) / 4
    gene_spread = np.abs(gene.log_sed) / 8
    return dataclasses.replace(
        scores,
        spread=spread,
        replicates=2,
        gene_scores=dataclasses.replace(gene, log_sed_spread=gene_spread),
    )


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_the_long_tsv_has_one_row_per_scored_allele_and_track(tmp_path):
    path = write_scores_long_tsv(make_scores(), TRACK_IDS, tmp_path / "out" / "s.tsv")
    assert path == tmp_path / "out" / "s.tsv"
    assert lines(path) == [
        "chrom\tpos\tref\talt\tid\ttrack\tSUM\tlogSED\tref_sum\talt_sum",
        "I\t100\tA\tG\t\tt.plus\t0.5\t0.125\t10\t10.5",
        "I\t100\tA\tG\t\tt.minus\t-2\t0.0625\t20\t18",
        "I\t100\tA\tG\t\tdnase\t1\t-0.375\t30\t31",
        "II\t200\tC\tT\tmulti\tt.plus\t1.5\t0.25\t40\t41.5",
        "II\t200\tC\tT\tmulti\tt.minus\tnan\t-0.5\t50\t49",
        "II\t200\tC\tT\tmulti\tdnase\t-1.25\t0.125\t60.5\t59.25",
    ]


def test_the_wide_tsv_has_one_row_per_allele_and_empty_cells_for_nan(tmp_path):
    path = write_scores_wide_tsv(make_scores(), TRACK_IDS, tmp_path / "wide.tsv")
    header, *rows = [line.split("\t") for line in lines(path)]
    names = ["SUM", "logSED", "ref_sum", "alt_sum"]
    assert header == ["chrom", "pos", "ref", "alt", "id"] + [
        f"{name}:{track}" for name in names for track in TRACK_IDS
    ]
    assert rows == [
        ["I", "100", "A", "G", "", "0.5", "-2", "1", "0.125", "0.0625", "-0.375"]
        + ["10", "20", "30", "10.5", "18", "31"],
        ["II", "200", "C", "T", "multi", "1.5", "", "-1.25", "0.25", "-0.5", "0.125"]
        + ["40", "50", "60.5", "41.5", "49", "59.25"],
        ["II", "200", "C", "C" + "A" * 30, "multi"] + [""] * 12,
    ]


def test_the_gene_tsv_has_one_row_per_gene_score_with_track_identifiers(tmp_path):
    path = write_gene_tsv(make_scores(), TRACK_IDS, tmp_path / "s.tsv.genes.tsv")
    assert lines(path) == [
        "chrom\tpos\tref\talt\tid\tgene_id\tgene_name\ttrack\tSED\tlogSED",
        "I\t100\tA\tG\t\tYAL001C\tTFC3\tt.minus\t-1.5\t-0.625",
        "II\t200\tC\tT\tmulti\tYBR001C\tNTH2\tt.plus\t2\t0.25",
        "II\t200\tC\tT\tmulti\tYBR002W\tRER2\tt.minus\t-3\t-0.75",
    ]


def test_writers_leave_no_temp_files_and_replace_old_outputs(tmp_path):
    (tmp_path / "s.tsv").write_text("old")
    write_scores_long_tsv(make_scores(), TRACK_IDS, tmp_path / "s.tsv")
    write_scores_npz(make_scores(), TRACK_IDS, tmp_path / "s.npz")
    write_annotated_vcf(make_scores(), TRACK_IDS, CONTIGS, tmp_path / "s.vcf.gz", model_name="m")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "s.npz",
        "s.tsv",
        "s.vcf.gz",
        "s.vcf.gz.tbi",
    ]
    assert lines(tmp_path / "s.tsv")[0].startswith("chrom\t")


def test_track_identifiers_must_match_the_tracks(tmp_path):
    with pytest.raises(ValueError, match="2 track identifiers for 3 tracks"):
        write_scores_long_tsv(make_scores(), TRACK_IDS[:2], tmp_path / "s.tsv")
    assert not (tmp_path / "s.tsv").exists()


def read_vcf(path: Path) -> tuple[pysam.VariantHeader, list[pysam.VariantRecord]]:
    with pysam.VariantFile(str(path)) as vcf:
        return vcf.header.copy(), [record for contig in CONTIGS for record in vcf.fetch(contig)]


def test_the_annotated_vcf_reads_back_every_info_value_through_its_index(tmp_path):
    path = tmp_path / "scored.vcf.gz"
    assert write_annotated_vcf(make_scores(), TRACK_IDS, CONTIGS, path, model_name="tiny") == path
    _, records = read_vcf(path)
    assert [(r.chrom, r.pos, r.id, r.ref, r.alts) for r in records] == [
        ("I", 100, None, "A", ("G",)),
        ("II", 200, "multi", "C", ("T",)),
        ("II", 200, "multi", "C", ("C" + "A" * 30,)),
    ]
    assert dict(records[0].info) == {
        "GW_SUM": -2.0,
        "GW_SUM_TRACK": "t.minus",
        "GW_logSED": -0.375,
        "GW_logSED_TRACK": "dnase",
        "GW_REF_SUM": 20.0,
        "GW_ALT_SUM": 18.0,
        "GW_TOP_GENE": "YAL001C",
        "GW_TOP_GENE_logSED": -0.625,
    }
    assert dict(records[1].info) == {
        "GW_SUM": 1.5,  # the nan track is skipped
        "GW_SUM_TRACK": "t.plus",
        "GW_logSED": -0.5,
        "GW_logSED_TRACK": "t.minus",
        "GW_REF_SUM": 40.0,
        "GW_ALT_SUM": 41.5,
        "GW_TOP_GENE": "YBR002W",  # |-0.75| beats 0.25
        "GW_TOP_GENE_logSED": -0.75,
    }
    assert dict(records[2].info) == {}  # unscored


def test_the_annotated_vcf_header_says_what_each_field_is(tmp_path):
    path = tmp_path / "scored.vcf.gz"
    write_annotated_vcf(make_scores(), TRACK_IDS, CONTIGS, path, model_name="tiny")
    header, _ = read_vcf(path)
    assert {(r.key, r.value) for r in header.records if r.type == "GENERIC"} >= {
        ("source", "genomeweb"),
        ("genomeweb_model", "tiny"),
    }
    assert {name: c.length for name, c in header.contigs.items()} == CONTIGS
    info = header.info
    assert list(info) == [
        "GW_SUM",
        "GW_SUM_TRACK",
        "GW_logSED",
        "GW_logSED_TRACK",
        "GW_REF_SUM",
        "GW_ALT_SUM",
        "GW_TOP_GENE",
        "GW_TOP_GENE_logSED",
    ]
    assert [(info[k].number, info[k].type) for k in ("GW_SUM", "GW_SUM_TRACK")] == [
        (1, "Float"),
        (1, "String"),
    ]
    for key in info:
        assert "model tiny, untransformed predicted counts" in info[key].description
    assert "max |value| over 3 tracks" in info["GW_logSED"].description
    assert "logSED" in info["GW_TOP_GENE"].description
    assert "pseudocount c = 1 count" in info["GW_logSED"].description
    assert "pseudocount" not in info["GW_SUM"].description


def test_the_vcf_header_names_a_borzoi_models_pseudocount(tmp_path):
    path = tmp_path / "scored.vcf.gz"
    scaled = "1 / the track's scale in counts, i.e. 1 in Calico's scaled units"
    scores = dataclasses.replace(make_scores(), pseudocount=scaled)
    write_annotated_vcf(scores, TRACK_IDS, CONTIGS, path, model_name="flashzoi")
    info = read_vcf(path)[0].info
    assert f"pseudocount c = {scaled}" in info["GW_logSED"].description
    assert f"pseudocount {scaled}" in info["GW_TOP_GENE_logSED"].description


def test_the_vcf_has_no_gene_fields_without_genes(tmp_path):
    path = tmp_path / "scored.vcf.gz"
    write_annotated_vcf(make_scores(genes=False), TRACK_IDS, CONTIGS, path, model_name="tiny")
    header, records = read_vcf(path)
    assert "GW_TOP_GENE" not in header.info
    assert "GW_TOP_GENE" not in records[0].info and records[0].info["GW_SUM"] == -2.0


def test_vcf_strings_are_percent_encoded(tmp_path):
    path = tmp_path / "scored.vcf.gz"
    odd = ["t.plus", "CAGE;brain=1, adult", "dnase"]
    write_annotated_vcf(make_scores(), odd, CONTIGS, path, model_name="tiny")
    _, records = read_vcf(path)
    assert records[0].info["GW_SUM_TRACK"] == "CAGE%3Bbrain%3D1%2C%20adult"
    assert records[0].info["GW_REF_SUM"] == 20.0


@pytest.mark.parametrize(
    "contigs, name, message",
    [
        ({"II": 3_000, "I": 5_000}, "tiny", "sorted by contig"),
        ({"I": 5_000}, "tiny", "contigs not in the genome: II"),
        (CONTIGS, 'say "hi"', "cannot go in a VCF header"),
    ],
)
def test_the_vcf_refuses_unsorted_alleles_unknown_contigs_and_odd_model_names(
    tmp_path, contigs, name, message
):
    with pytest.raises(ValueError, match=message):
        write_annotated_vcf(
            make_scores(), TRACK_IDS, contigs, tmp_path / "s.vcf.gz", model_name=name
        )
    assert list(tmp_path.iterdir()) == []


def test_the_npz_round_trips_without_pickles(tmp_path):
    scores = make_scores()
    path = write_scores_npz(scores, TRACK_IDS, tmp_path / "scores.data")  # no suffix added
    assert path == tmp_path / "scores.data" and path.is_file()
    with np.load(path, allow_pickle=False) as npz:
        arrays = dict(npz)
    assert all(array.dtype != object for array in arrays.values())
    np.testing.assert_array_equal(arrays["scores"], scores.scores)  # nan == nan here
    np.testing.assert_array_equal(arrays["ref_sum"], scores.ref_sum)
    np.testing.assert_array_equal(arrays["alt_sum"], scores.alt_sum)
    assert arrays["scores"].dtype == np.float32
    text = {k: arrays[k].tolist() for k in ("scorers", "track_ids", "chrom", "ref", "alt", "id")}
    assert text == {
        "scorers": ["SUM", "logSED"],
        "track_ids": TRACK_IDS,
        "chrom": ["I", "II", "II"],
        "ref": ["A", "C", "C"],
        "alt": ["G", "T", "C" + "A" * 30],
        "id": ["", "multi", "multi"],
    }
    assert arrays["pos"].tolist() == [100, 200, 200]
    assert arrays["gene_variant"].tolist() == [0, 1, 1]
    assert arrays["gene_id"].tolist() == ["YAL001C", "YBR001C", "YBR002W"]
    assert arrays["gene_name"].tolist() == ["TFC3", "NTH2", "RER2"]
    assert arrays["gene_track"].tolist() == [1, 0, 1]  # columns of track_ids
    assert arrays["gene_sed"].tolist() == [-1.5, 2.0, -3.0]
    assert arrays["gene_log_sed"].tolist() == [-0.625, 0.25, -0.75]


def test_the_npz_of_no_gene_scores_has_empty_gene_arrays(tmp_path):
    path = write_scores_npz(make_scores(genes=False), TRACK_IDS, tmp_path / "s.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert npz["gene_id"].shape == (0,) and npz["gene_track"].shape == (0,)


def test_the_npz_refuses_text_arrays_too_big_for_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "NPZ_MAX_TEXT_BYTES", 3 * 4 * 30)  # alt: 3 rows × 31 chars
    with pytest.raises(ValueError, match="npz array alt would take"):
        write_scores_npz(make_scores(), TRACK_IDS, tmp_path / "s.npz")
    assert list(tmp_path.iterdir()) == []


def test_summarize_keeps_the_sign_at_the_largest_magnitude_and_nan_as_none():
    assert summarize(make_scores(), TRACK_IDS, "SUM") == [
        {
            "max_abs": 2.0,
            "primary": -2.0,
            "primary_spread": None,
            "top_track": "t.minus",
            "top_track_scores": {"SUM": -2.0, "logSED": 0.0625},  # both at t.minus
            "scorer_max": {"SUM": -2.0, "logSED": -0.375},
            "scorer_track": {"SUM": "t.minus", "logSED": "dnase"},  # logSED peaks elsewhere
            "top_gene": "YAL001C",
            "top_gene_name": "TFC3",
            "top_gene_log_sed": -0.625,
            "top_gene_log_sed_spread": None,
            "primary_pct": None,  # not calibrated
            "beyond_noise": None,
            "top_track_pct": {},
            "scorer_pct": {},
        },
        {
            "max_abs": 1.5,
            "primary": 1.5,
            "primary_spread": None,
            "top_track": "t.plus",
            "top_track_scores": {"SUM": 1.5, "logSED": 0.25},
            "scorer_max": {"SUM": 1.5, "logSED": -0.5},
            "scorer_track": {"SUM": "t.plus", "logSED": "t.minus"},
            "top_gene": "YBR002W",
            "top_gene_name": "RER2",
            "top_gene_log_sed": -0.75,
            "top_gene_log_sed_spread": None,
            "primary_pct": None,  # not calibrated
            "beyond_noise": None,
            "top_track_pct": {},
            "scorer_pct": {},
        },
        {
            "max_abs": None,
            "primary": None,
            "primary_spread": None,
            "top_track": "",
            "top_track_scores": {"SUM": None, "logSED": None},
            "scorer_max": {"SUM": None, "logSED": None},
            "scorer_track": {"SUM": None, "logSED": None},
            "top_gene": "",
            "top_gene_name": "",
            "top_gene_log_sed": None,
            "top_gene_log_sed_spread": None,
            "primary_pct": None,  # not calibrated
            "beyond_noise": None,
            "top_track_pct": {},
            "scorer_pct": {},
        },
    ]


def test_summarize_ranks_by_the_primary_scorer_it_is_given():
    first, second, _ = summarize(make_scores(genes=False), TRACK_IDS, "logSED")
    assert (first["max_abs"], first["primary"], first["top_track"]) == (0.375, -0.375, "dnase")
    assert (second["primary"], second["top_track"]) == (-0.5, "t.minus")
    assert (first["top_gene"], first["top_gene_log_sed"]) == ("", None)
    with pytest.raises(ValueError, match="primary scorer JS was not computed"):
        summarize(make_scores(), TRACK_IDS, "JS")


def test_summarize_handles_a_quarter_million_alleles():
    alleles, tracks, scorers = 250_000, 12, 9
    values = np.random.default_rng(0).normal(size=(alleles, tracks, scorers)).astype(np.float32)
    values[7] = np.nan
    names = [f"S{s}" for s in range(scorers)]
    empty = GeneScores(*[np.zeros(0, np.int64)] * 3, *[np.zeros(0, np.float32)] * 2)
    scores = VariantScores(
        [Variant("I", i, "A", "C", "", i) for i in range(alleles)],
        names,
        list(range(tracks)),
        values,
        values[..., 0],
        values[..., 1],
        [],
        empty,
        [7],
    )
    summary = summarize(scores, [f"t{t}" for t in range(tracks)], "S3")
    assert len(summary) == alleles and summary[7]["primary"] is None
    at = int(np.abs(values[123, :, 3]).argmax())
    assert summary[123]["primary"] == values[123, at, 3].item()
    assert summary[123]["top_track"] == f"t{at}"


def test_every_export_carries_the_replicate_spread_of_a_multi_replicate_model(tmp_path):
    scores = with_replicates(make_scores())
    long = lines(write_scores_long_tsv(scores, TRACK_IDS, tmp_path / "s.tsv"))
    assert long[0].endswith("ref_sum\talt_sum\tSUM_sd\tlogSED_sd")
    assert long[2] == "I\t100\tA\tG\t\tt.minus\t-2\t0.0625\t20\t18\t0.5\t0.015625"
    genes = lines(write_gene_tsv(scores, TRACK_IDS, tmp_path / "g.tsv"))
    assert genes[0].endswith("SED\tlogSED\tlogSED_sd")
    assert genes[1].endswith("\t-1.5\t-0.625\t0.078125")
    path = tmp_path / "scored.vcf.gz"
    write_annotated_vcf(scores, TRACK_IDS, CONTIGS, path, model_name="tiny")
    header, records = read_vcf(path)
    assert "over the 2 model replicates" in header.info["GW_SUM_SD"].description
    info = dict(records[0].info)
    assert (info["GW_SUM"], info["GW_SUM_SD"], info["GW_logSED_SD"]) == (-2.0, 0.5, 0.09375)
    assert info["GW_TOP_GENE_logSED_SD"] == 0.078125
    assert "GW_SUM_SD" not in records[2].info  # unscored
    with np.load(write_scores_npz(scores, TRACK_IDS, tmp_path / "s.npz")) as npz:
        np.testing.assert_array_equal(npz["spread"], scores.spread)
        assert int(npz["replicates"]) == 2
        assert npz["gene_log_sed_spread"].tolist() == [0.078125, 0.03125, 0.09375]
    first = summarize(scores, TRACK_IDS, "SUM")[0]
    assert (first["primary"], first["primary_spread"]) == (-2.0, 0.5)
    assert first["top_gene_log_sed_spread"] == 0.078125


def test_a_one_replicate_model_adds_no_spread_columns(tmp_path):
    scores = make_scores()
    assert "_sd" not in lines(write_scores_long_tsv(scores, TRACK_IDS, tmp_path / "s.tsv"))[0]
    assert "_sd" not in lines(write_gene_tsv(scores, TRACK_IDS, tmp_path / "g.tsv"))[0]
    path = tmp_path / "scored.vcf.gz"
    write_annotated_vcf(scores, TRACK_IDS, CONTIGS, path, model_name="tiny")
    assert not [key for key in read_vcf(path)[0].info if key.endswith("_SD")]


def test_the_pseudocount_survives_the_workers_parts_and_old_parts_read_as_one_count():
    scores = dataclasses.replace(make_scores(), pseudocount="1 / the track's scale")
    arrays = scores_to_arrays(scores)
    again = scores_from_arrays([arrays], scores.variants, scores.genes)
    assert again.pseudocount == "1 / the track's scale"
    del arrays["pseudocount"]  # a part stored before the field existed
    assert scores_from_arrays([arrays], scores.variants, scores.genes).pseudocount == "1 count"
