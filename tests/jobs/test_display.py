"""A job's parameters and subject in words (genomeweb/jobs/display.py)."""

import pytest

from genomeweb.jobs.display import (
    describe_objective,
    describe_params,
    describe_value,
    job_names,
    job_subject,
)
from genomeweb.jobs.models import Job, JobKind

SALIENCY = {
    "model": "yeast-demo",
    "region": ["XV", 721849, 722041],
    "reverse_complement": True,
    "objective": {"gene": "YOR202W"},
    "log": True,
}


def test_it_writes_regions_1_based_with_separators_and_objectives_as_genes():
    names = {"gene:YOR202W": "HIS3"}
    assert describe_params(SALIENCY, names) == [
        ("Model", "yeast-demo"),
        ("Region", "XV:721,850-722,041"),
        ("Averaged with the reverse complement", "yes"),
        ("Objective", "gene HIS3"),
        ("Objective scale", "log2(1 + sum)"),
    ]


def test_it_falls_back_to_the_gene_id_without_a_name():
    assert describe_objective({"gene": "YOR202W"}) == "gene YOR202W"


def test_a_track_objective_names_its_tracks_and_range():
    assert describe_objective({"tracks": ["a", "b"], "over": None}) == (
        "tracks a, b over every output bin"
    )
    assert describe_objective({"tracks": ["a"], "over": ["II", 999, 2000]}) == (
        "tracks a over II:1,000-2,000"
    )


@pytest.mark.parametrize(
    "key, value, text",
    [
        ("reverse_complement", False, "no"),
        ("log", False, "sum (linear)"),
        ("layer", 0, "1"),
        ("head", None, "mean of all heads"),
        ("head", 3, "4"),
        ("shifts", [-1, 0, 1], "-1, 0, 1"),
        ("replicates", 3, "3"),
        ("report_top", 50, "the 50 strongest variants"),
        ("report_top", 0, "none"),
        ("tracks", [], "none"),
        ("anything_new", {"upstream": 300, "strand": None}, "upstream 300; strand —"),
        ("width", 12000, "12,000"),
    ],
)
def test_values_read_as_words(key, value, text):
    assert describe_value(key, value) == text


def test_long_lists_are_shortened_with_their_count():
    text = describe_value("tracks", [f"t{i}" for i in range(1234)])
    assert text.startswith("t0, t1, ") and text.endswith("t9 … (1,234 in all)")


def test_codes_read_as_names_and_a_part_as_its_variants():
    code = "7d336849-fc2b-4b24-a6b4-ee174d02ef96"
    params = {"variant_set": code, "part": 1, "first": 500, "stop": 1000}
    assert describe_params(params, {code: "calls.vcf"}) == [
        ("Variants", "501–1,000"),
        ("Variant set", "calls.vcf"),
        ("Part", "2"),
    ]
    assert describe_params({"variant_set": code}) == [("Variant set", "7d336849")]


def test_no_python_reprs_reach_the_page():
    params = SALIENCY | {"allele": {"variant": 4, "side": "alt"}, "tracks": ["a", "b"]}
    for _, text in describe_params(params):
        assert "[" not in text and "{" not in text and "'" not in text and "True" not in text


def test_the_subject_says_what_a_job_ran_on(db, workspace, alice):
    job = Job(workspace=workspace, kind=JobKind.SALIENCY, params=SALIENCY)
    assert job_subject(job, {"gene:YOR202W": "HIS3"}) == (
        "yeast-demo · gene HIS3 · XV:721,850-722,041"
    )
    attention = Job(
        workspace=workspace,
        kind=JobKind.ATTENTION,
        params={"model": "m", "region": ["I", 0, 10], "layer": 2, "head": None},
    )
    assert job_subject(attention) == "m · layer 3 · I:1-10"


def test_names_are_looked_up_for_the_pages(variant_set, workspace, alice, genome):
    from genomeweb.catalog.models import Gene

    gene = Gene.objects.filter(genome=genome, name="PAU8").get()
    scoring = Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=JobKind.SCORE_VARIANTS,
        params={"variant_set": str(variant_set.code), "model": "tiny", "tracks": ["a", "b"]},
    )
    ism = Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=JobKind.ISM,
        params={"model": "tiny", "region": ["I", 2144, 2192], "objective": {"gene": gene.gene_id}},
    )
    bundle = Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=JobKind.BUNDLE,
        params={"job": str(scoring.code), "report_top": 50},
    )
    names = job_names([scoring, ism, bundle])
    assert job_subject(scoring, names) == f"{variant_set.name} · tiny · 2 tracks"
    assert job_subject(ism, names) == "tiny · gene PAU8 · I:2,145-2,192"
    assert job_subject(bundle, names) == f"Variant effects job {str(scoring.code)[:8]}"
