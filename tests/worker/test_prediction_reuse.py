"""Prediction reuse (issue 16 item 3): a job takes the stored scores of alleles scored before
with the same model weights, genome and settings, and runs forward passes only for the rest."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.yeast import YeastAdapter
from engine.variants.windows import forward_passes, window_step
from genomeweb.api.models import ApiToken
from genomeweb.catalog.models import Predictor
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.jobs.score_cache import ScoreCacheEntry, ScoreCacheLayout
from genomeweb.variants.models import GeneEffect, VariantEffect
from genomeweb.variants.submit import submit_variant_set
from genomeweb.workspaces.models import Membership, Role, Workspace
from tests.conftest import make_tiny_yeast
from tests.scoring import HEADER, calls_vcf, score_form
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")

REUSED = "alleles reused from earlier predictions (same model weights, genome and settings)"
NOT_REUSED = (
    "kept other tracks or scorers; the engine keeps scores, not the predicted coverage, so new "
    "tracks or scorers need new forward passes"
)
EFFECT_FIELDS = (
    "max_abs",
    "primary",
    "primary_spread",
    "top_track",
    "top_track_scores",
    "scorer_max",
    "scorer_track",
    "top_gene",
    "top_gene_log_sed",
)


@pytest.fixture
def model_calls(monkeypatch):
    """Every call into the tiny model's forward passes (whole windows, references and the
    substitution fast path), as (method, sequences)."""
    calls = []
    for name in ("predict", "predict_reference", "predict_substitutions"):
        original = getattr(YeastAdapter, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            calls.append(
                (_name, len(args[1]) if _name == "predict_substitutions" else len(args[0]))
            )
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(YeastAdapter, name, counted)
    return calls


def score(client, variant_set, **form) -> Job:
    """Submit and run a fresh scoring job of ``variant_set`` (never the earlier job again)."""
    Job.objects.filter(kind=JobKind.SCORE_VARIANTS).update(idempotency_key="")
    url = reverse("gw-variantset-score", kwargs={"code": variant_set.code})
    response = client.post(url, score_form(**form))
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.filter(kind=JobKind.SCORE_VARIANTS).latest("created")
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def npz(job: Job) -> dict[str, np.ndarray]:
    with np.load(job.artifacts.get(name="scores.npz").path, allow_pickle=False) as arrays:
        return dict(arrays)


def effect_rows(job: Job) -> list[tuple]:
    rows = VariantEffect.objects.filter(job=job).order_by("variant__index")
    return [
        (r.variant.chrom, r.variant.start, r.variant.alt, *(getattr(r, f) for f in EFFECT_FIELDS))
        for r in rows
    ]


def gene_rows(job: Job) -> list[tuple]:
    rows = GeneEffect.objects.filter(job=job).order_by("variant__index", "gene_id", "track")
    return [
        (r.variant.start, r.variant.alt, r.gene_id, r.track, r.sed, r.log_sed, r.log_sed_spread)
        for r in rows
    ]


def assert_same_arrays(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def submit(workspace, user, genome, name: str, content: bytes):
    variant_set = submit_variant_set(
        workspace=workspace,
        user=user,
        genome=genome,
        name=name,
        upload=SimpleUploadedFile(f"{name}.vcf", content),
        submission=None,
    )
    tasks.run_job.apply(args=[variant_set.validation_job.pk])
    variant_set.refresh_from_db()
    return variant_set


def test_the_same_set_scored_twice_runs_no_forward_pass_the_second_time(
    as_user, eddie, victor, validated_set, model_calls
):
    client = as_user(eddie)
    first = score(client, validated_set)
    assert model_calls and first.summary["reused"] == 0 and first.summary["passes"] > 0
    model_calls.clear()
    second = score(client, validated_set)
    assert model_calls == []  # not one forward pass
    assert second.summary["reused"] == 7 and second.summary["alleles"] == 7
    assert second.summary["passes"] == 0
    # the cost estimate is fitted to jobs that scored every allele (genomeweb/jobs/costs.py)
    assert "scoring_seconds" in first.summary and "scoring_seconds" not in second.summary
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    form = client.get(url, score_form(), HTTP_HX_REQUEST="true").content.decode()
    assert "fitted to this model&#x27;s last 1 scoring job on cpu" in form
    assert effect_rows(second) == effect_rows(first)
    assert gene_rows(second) == gene_rows(first) and gene_rows(first)
    assert_same_arrays(npz(second), npz(first))
    # The same job without reuse (the store emptied) computes the same numbers, bit for bit.
    ScoreCacheEntry.objects.all().delete()
    third = score(client, validated_set)
    assert model_calls and third.summary["reused"] == 0
    assert_same_arrays(npz(third), npz(second))
    assert effect_rows(third) == effect_rows(second)

    viewer = as_user(victor)
    page = viewer.get(reverse("gw-job", kwargs={"code": second.code})).content.decode()
    assert f"7 of 7 {REUSED}" in page
    results = viewer.get(reverse("gw-effects", kwargs={"code": second.code})).content.decode()
    assert f"7 of 7 {REUSED}" in results
    assert REUSED not in viewer.get(reverse("gw-job", kwargs={"code": first.code})).content.decode()
    secret = ApiToken.issue(victor, "reuse test")[1]
    api = viewer.get(f"/api/v1/jobs/{second.code}", headers={"Authorization": f"Bearer {secret}"})
    assert api.json()["summary"]["reused"] == 7 and api.json()["summary"]["alleles"] == 7


def shared_half_vcf(genome) -> bytes:
    """Four alleles of ``calls_vcf`` (SNVs at 1700 and 2400, both indels) and three new ones
    (other ALTs at 1750 and 2450, an SNV at II:450)."""
    fasta = Genome(genome.fasta_file)
    old = calls_vcf(genome).decode().splitlines()[2:]
    kept = [line for line in old if line.split("\t")[1] in ("1700", "2400", "300", "400")]
    new = []
    for chrom, pos in (("I", 1750), ("I", 2450), ("II", 450)):
        ref = fasta.fetch(Interval(chrom, pos - 1, pos))
        new.append(f"{chrom}\t{pos}\tnew{pos}\t{ref}\t{'T' if ref != 'T' else 'C'}\t.\t.\t.")
    return (HEADER + "\n".join(kept + new) + "\n").encode()


def test_a_set_sharing_alleles_computes_only_the_new_ones(
    as_user, eddie, workspace, genome, validated_set, model_calls
):
    client = as_user(eddie)
    first = score(client, validated_set)
    other = submit(workspace, eddie, genome, "half", shared_half_vcf(genome))
    assert other.accepted == 7
    model_calls.clear()
    second = score(client, other)
    assert second.summary["reused"] == 4
    new = [v for v in other.variants.all() if v.ident.startswith("new")]
    tiny = Predictor.objects.get(name="tiny")
    step = window_step(tiny.output_bins, tiny.bin_size)
    expected = forward_passes(
        [(v.chrom, v.start, len(v.ref), len(v.alt)) for v in new], step, per_pass=2
    )
    assert second.summary["passes"] == expected  # the new SNVs' tiles and alleles, both strands
    # sequences through the model: each new SNV's reference window and its allele, × 2 strands
    assert sum(n for _, n in model_calls) == expected

    # The shared alleles' numbers are the first job's, bit for bit.
    before = {row[:3]: row for row in effect_rows(first)}
    after = effect_rows(second)
    shared = [row for row in after if row[:3] in before]
    assert len(shared) == 4 and all(row == before[row[:3]] for row in shared)

    # Against the same set scored from scratch: batches of other members round the last bits
    # of a float32 sum differently (as parts do), so within 1e-4; the gene rows are the same.
    ScoreCacheEntry.objects.all().delete()
    scratch = score(client, other)
    mixed, fresh = npz(second), npz(scratch)
    np.testing.assert_allclose(mixed["scores"], fresh["scores"], rtol=1e-4, atol=1e-5)
    for name in ("gene_variant", "gene_id", "gene_track", "chrom", "pos", "ref", "alt"):
        np.testing.assert_array_equal(mixed[name], fresh[name], err_msg=name)


def test_other_shifts_or_another_model_reuse_nothing(
    as_user, eddie, genome, validated_set, model_calls, tmp_path
):
    client = as_user(eddie)
    score(client, validated_set)
    model_calls.clear()
    shifted = score(client, validated_set, shifts="0,1")
    assert shifted.summary["reused"] == 0 and model_calls
    assert "kept_elsewhere" not in shifted.summary  # other settings: no reason to give

    call_command(
        "register_model",
        "tiny2",
        architecture="yeast",
        weights=[make_tiny_yeast(tmp_path / "other", seed=1)],
        genome="mini",
        stdout=io.StringIO(),
    )
    model_calls.clear()
    other = score(client, validated_set, model=Predictor.objects.get(name="tiny2").pk)
    assert other.summary["reused"] == 0 and model_calls


def test_a_subset_of_tracks_and_scorers_is_sliced_from_the_stored_scores(
    as_user, eddie, validated_set, model_calls
):
    client = as_user(eddie)
    first = score(client, validated_set)
    model_calls.clear()
    subset = score(client, validated_set, track_query="WT_2", scorers=["D2", "logSED"])
    assert model_calls == [] and subset.summary["reused"] == 7
    whole, part = npz(first), npz(subset)
    tracks = [list(whole["track_ids"]).index(t) for t in part["track_ids"]]
    scorers = [list(whole["scorers"]).index(s) for s in part["scorers"]]
    assert len(tracks) == 2 and list(part["scorers"]) == ["D2", "logSED"]
    np.testing.assert_array_equal(part["scores"], whole["scores"][:, tracks][:, :, scorers])
    np.testing.assert_array_equal(part["ref_sum"], whole["ref_sum"][:, tracks])
    kept = np.isin(whole["gene_track"], tracks)
    assert kept.any() and not kept.all()
    np.testing.assert_array_equal(part["gene_sed"], whole["gene_sed"][kept])
    np.testing.assert_array_equal(part["gene_id"], whole["gene_id"][kept])


def test_a_scorer_never_stored_is_computed_and_the_page_says_why(
    as_user, eddie, validated_set, model_calls
):
    client = as_user(eddie)
    score(client, validated_set)
    model_calls.clear()
    js = score(client, validated_set, scorers=["logSED", "JS"])
    assert model_calls and js.summary["reused"] == 0 and js.summary["kept_elsewhere"] == 7
    page = client.get(reverse("gw-job", kwargs={"code": js.code})).content.decode()
    assert f"Not reused for 7 alleles: earlier predictions of these alleles {NOT_REUSED}" in page
    assert REUSED not in page
    # its scores are stored too: the same scorers again reuse them
    model_calls.clear()
    again = score(client, validated_set, scorers=["JS"])
    assert model_calls == [] and again.summary["reused"] == 7


def test_another_workspace_reuses_the_scores_and_sees_nothing_of_the_first(
    as_user, eddie, bob, genome, validated_set, model_calls
):
    first = score(as_user(eddie), validated_set)
    elsewhere = Workspace.objects.create(name="Bob's lab", created_by=bob)
    Membership.objects.create(workspace=elsewhere, user=bob, role=Role.OWNER)
    theirs = submit(elsewhere, bob, genome, "calls", calls_vcf(genome))
    model_calls.clear()
    job = score(as_user(bob), theirs)
    assert model_calls == [] and job.summary["reused"] == 7
    assert job.workspace == elsewhere
    rows = VariantEffect.objects.filter(job=job)
    assert rows.count() == 7 and {r.variant.variant_set_id for r in rows} == {theirs.pk}
    assert VariantEffect.objects.filter(job=first).count() == 7  # the first job's rows stay
    assert [row[1:] for row in effect_rows(job)] == [row[1:] for row in effect_rows(first)]
    # the store names no workspace, set, job or allele: keys, track ids, scorers and numbers
    fields = {f.name for f in ScoreCacheEntry._meta.get_fields()}
    fields |= {f.name for f in ScoreCacheLayout._meta.get_fields()}
    assert fields == {
        "id",
        "layout",
        "allele_key",
        "payload",
        "genes",
        "settings_key",
        "tracks",
        "scorers",
        "created",
        "entries",
    }
    assert not Workspace.objects.filter(pk=elsewhere.pk, memberships__user=eddie).exists()


def test_a_reusing_job_run_twice_stores_its_rows_once(as_user, eddie, validated_set):
    client = as_user(eddie)
    score(client, validated_set)
    second = score(client, validated_set)
    # the worker died after storing, before acknowledging: the message comes again
    Job.objects.filter(pk=second.pk).update(status=JobStatus.QUEUED)
    tasks.run_job.apply(args=[second.pk])
    assert VariantEffect.objects.filter(job=second).count() == 7
    assert ScoreCacheEntry.objects.count() == 7  # each allele stored once


def test_each_part_of_a_large_job_looks_up_its_own_alleles(
    as_user, eddie, validated_set, settings, model_calls
):
    client = as_user(eddie)
    first = score(client, validated_set)
    settings.SCORING_PART_ALLELES = 3
    model_calls.clear()
    Job.objects.filter(kind=JobKind.SCORE_VARIANTS).update(idempotency_key="")
    client.post(reverse("gw-variantset-score", kwargs={"code": validated_set.code}), score_form())
    job = Job.objects.filter(kind=JobKind.SCORE_VARIANTS, parent=None).latest("created")
    tasks.run_job.apply(args=[job.pk])
    parts = list(job.parts.order_by("params__part"))
    assert len(parts) == 3
    for part in parts:
        tasks.run_job.apply(args=[part.pk])
        part.refresh_from_db()
        assert part.summary["reused"] == part.summary["alleles"] > 0
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert model_calls == [] and job.summary["reused"] == 7
    assert_same_arrays(npz(job), npz(first))


def test_a_job_of_too_many_numbers_per_allele_is_not_stored(
    as_user, eddie, validated_set, monkeypatch, model_calls
):
    from worker.jobs import reuse

    # 6 tracks × 3 scorers: 2 × 18 + 2 × 6 = 48 numbers an allele
    monkeypatch.setattr(reuse, "MAX_STORED_VALUES", 47)
    client = as_user(eddie)
    score(client, validated_set)
    assert not ScoreCacheEntry.objects.exists()
    monkeypatch.setattr(reuse, "MAX_STORED_VALUES", 48)
    model_calls.clear()
    score(client, validated_set)
    assert model_calls and ScoreCacheEntry.objects.count() == 7
