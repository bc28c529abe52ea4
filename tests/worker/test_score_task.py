"""From an accepted variant set to stored, browsable scores: the view submits, the task scores."""

import json
from datetime import timedelta

import numpy as np
import pysam
import pytest
from django.urls import reverse
from django.utils import timezone

from genomeweb.catalog.models import Predictor
from genomeweb.jobs.costs import DEFAULT_COSTS, NO_HISTORY, scoring_cost
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.lib.durations import duration_text
from genomeweb.variants.models import GeneEffect, VariantEffect
from genomeweb.variants.submit import estimate_pass_cost, estimate_passes
from tests.scoring import score_form
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")


def test_the_form_shows_the_cost_before_launch(as_user, eddie, validated_set):
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    response = as_user(eddie).get(url, score_form(), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    # Tiles of 192 bp: I:1699 -> 8; I:1749, I:1799 -> 9; I:2399, I:2449 -> 12; II:299 -> 1;
    # II:399 -> 2. 5 references + 5 SNVs + 2 × 2 indel passes = 14, × 2 for the RC.
    assert "<strong>6</strong> tracks" in body and "<strong>28</strong> forward passes" in body
    # no job of this model has finished yet: the documented default, said to be one
    fixed, per_pass = DEFAULT_COSTS["yeast"]
    assert f"about <strong>{duration_text(fixed + 28 * per_pass)}</strong>" in body
    assert NO_HISTORY in body
    # the model has no variant-level validation: said before launch, with its card's address
    assert (
        "Unvalidated predictions." in body
        and f"{reverse('gw-model', args=['tiny'])}#validation" in body
    )


def test_the_same_analysis_submitted_twice_is_one_job(as_user, eddie, validated_set):
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    client = as_user(eddie)
    first, second = client.post(url, score_form()), client.post(url, score_form())
    assert first.status_code == 302 and first["Location"] == second["Location"]
    job = Job.objects.get(kind=JobKind.SCORE_VARIANTS)
    assert job.params["tracks"] == [
        f"stripeseq_S288C_WT_{i}.{s}" for i in (1, 2, 3) for s in ("plus", "minus")
    ]


def test_bad_shifts_are_explained(as_user, eddie, validated_set):
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    response = as_user(eddie).post(url, score_form(shifts="1,two"))
    assert (
        response.status_code == 400
        and "is not a list of whole numbers" in response.content.decode()
    )
    assert not Job.objects.filter(kind=JobKind.SCORE_VARIANTS).exists()


def test_the_task_stores_one_row_per_allele_and_the_exports(scored):
    assert scored.status == JobStatus.SUCCEEDED, scored.error
    effects = VariantEffect.objects.filter(job=scored)
    assert effects.count() == 7
    assert all(e.max_abs is not None and np.isfinite(e.max_abs) for e in effects)
    assert all(e.top_track.startswith("stripeseq_S288C_WT_") for e in effects)
    assert set(effects.first().scorer_max) == {"logSED", "SUM", "D2"}
    assert GeneEffect.objects.filter(job=scored).exists()
    names = set(scored.artifacts.values_list("name", flat=True))
    assert {"scores.tsv", "scores_wide.tsv", "scores.npz", "annotated.vcf.gz", "genes.tsv"} <= names
    vcf = pysam.VariantFile(str(scored.artifacts.get(name="annotated.vcf.gz").path))
    assert len([r for r in vcf if "GW_logSED" in r.info]) == 7


def test_the_worker_records_the_passes_the_form_estimated(as_user, eddie, scored, validated_set):
    predictor = Predictor.objects.get(name="tiny")
    assert scored.summary["passes"] == estimate_passes(validated_set, predictor, scored.params)
    cost = estimate_pass_cost(validated_set, predictor, scored.params)
    assert scored.summary["cost_passes"] == pytest.approx(cost, abs=0.01)
    assert scored.summary["scoring_seconds"] > 0
    assert scored.progress_started_at is not None  # the start-up ended at the first report
    assert scored.queued_at <= scored.progress_started_at <= scored.finished_at
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    body = as_user(eddie).get(url, score_form(), HTTP_HX_REQUEST="true").content.decode()
    assert "fitted to this model&#x27;s last 1 scoring job on cpu" in body
    estimate = scoring_cost(predictor).estimate(cost)
    assert f"about <strong>{estimate['text']}</strong>" in body


def test_the_results_table_sorts_and_filters(as_user, victor, scored):
    client = as_user(victor)
    url = reverse("gw-effects", kwargs={"code": scored.code})
    page = client.get(url).content.decode()
    assert "7 alleles" in page and "Distribution of logSED" in page
    assert "Unvalidated predictions." in page
    values = [e.max_abs for e in VariantEffect.objects.filter(job=scored)]
    top = VariantEffect.objects.filter(job=scored).order_by("-max_abs").first()
    assert page.index(f"{top.variant.chrom}:{top.variant.pos} ") < page.index("</tbody>")
    assert max(values) == top.max_abs
    indels = client.get(url, {"kind": "indel"}, HTTP_HX_REQUEST="true").content.decode()
    assert "2 alleles" in indels and "<html" not in indels
    assert "5 alleles" in client.get(url, {"kind": "snv"}).content.decode()
    assert "7 alleles" in client.get(url, {"kind": "junk"}).content.decode()
    region = client.get(url, {"region": "I:1,700-1,800"}).content.decode()
    assert "3 alleles" in region
    ascending = client.get(url, {"sort": "position", "dir": "asc"}).content.decode()
    assert ascending.index("I:1700 ") < ascending.index("II:300 ")
    bad = client.get(url, {"min_abs": "lots"}).content.decode()
    assert "&#x27;lots&#x27; is not a number" in bad


def test_polling_stops_when_the_job_is_final(as_user, victor, scored):
    url = reverse("gw-effects", kwargs={"code": scored.code})
    response = as_user(victor).get(url, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="results")
    assert response.status_code == 286


def test_the_last_poll_shows_what_a_reload_shows(as_user, victor, scored):
    client = as_user(victor)
    url = reverse("gw-effects", kwargs={"code": scored.code})
    last_poll = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="results")
    fragment = last_poll.content.decode().strip()
    assert fragment in client.get(url).content.decode()
    assert f'hx-get="{reverse("gw-bundle", kwargs={"code": scored.code})}"' in fragment
    for artifact in scored.artifacts.all():  # the downloads
        assert reverse("gw-artifact", kwargs={"code": artifact.code}) in fragment


def test_the_scoring_card_says_the_time_left(as_user, victor, validated_set, eddie):
    began = timezone.now() - timedelta(minutes=10)
    job = Job.objects.create(
        workspace=validated_set.workspace,
        created_by=eddie,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.RUNNING,
        params={"variant_set": str(validated_set.code), "model": "tiny", "scorers": ["SUM"]},
        started_at=began,
        progress_started_at=began,
        progress_done=6,
        progress_total=7,
    )
    url = reverse("gw-effects", kwargs={"code": job.code})
    body = as_user(victor).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert job.eta_text.startswith("about")  # 100 s left
    assert "Scoring…" in body and "85%" in body and job.eta_text in body


def test_the_variant_set_page_lists_its_scoring_jobs(as_user, victor, scored, validated_set):
    url = reverse("gw-variantset", kwargs={"code": validated_set.code})
    page = as_user(victor).get(url).content.decode()
    assert reverse("gw-effects", kwargs={"code": scored.code}) in page
    assert "Score variant effects" not in page  # viewers cannot launch jobs


def test_an_editor_predicts_tracks_and_the_page_configures_igv(as_user, eddie, victor, scored):
    effect = VariantEffect.objects.filter(job=scored).order_by("-max_abs").first()
    chosen = ["stripeseq_S288C_WT_1.plus", "stripeseq_S288C_WT_1.minus"]
    url = reverse("gw-effect-tracks", kwargs={"code": scored.code, "effect_id": effect.pk})
    as_user(eddie).post(url, {"tracks": chosen})
    as_user(eddie).post(url, {"tracks": chosen})  # twice: still one job
    tracks_job = Job.objects.get(kind=JobKind.VARIANT_TRACKS)
    tasks.run_job.apply(args=[tracks_job.pk])
    tracks_job.refresh_from_db()
    assert tracks_job.status == JobStatus.SUCCEEDED, tracks_job.error
    tracks = tracks_job.artifacts.exclude(name="provenance.json")
    assert tracks.count() == 6  # ref, alt, alt − ref for two tracks

    client = as_user(victor)
    page_url = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    page = client.get(page_url, {"tracks": chosen}).content.decode()
    config = json.loads(
        page.split('<script id="igv-config" type="application/json">')[1].split("</script>")[0]
    )
    assert config["loadDefaultGenomes"] is False and config["search"] is False
    assert config["reference"]["fastaURL"].endswith("/mini.fa.gz")
    merged = [t for t in config["tracks"] if t["type"] == "merged"]
    assert [m["name"] for m in merged] == [f"{t} (reads per base)" for t in sorted(chosen)]
    variant = effect.variant
    assert config["roi"][0]["features"][0] == {
        "chr": variant.chrom,
        "start": variant.start,
        "end": variant.start + len(variant.ref),
    }
    url = merged[0]["tracks"][0]["url"]
    head = client.get(url, HTTP_RANGE="bytes=0-63")
    assert head.status_code == 206 and len(b"".join(head.streaming_content)) == 64
    fasta = client.get(config["reference"]["compressedIndexURL"], HTTP_RANGE="bytes=0-7")
    assert fasta.status_code == 206


def test_the_page_lists_scores_by_track_and_gene(as_user, victor, scored):
    effect = VariantEffect.objects.filter(job=scored).order_by("-max_abs").first()
    url = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    page = as_user(victor).get(url).content.decode()
    assert page.count("<td>stripeseq_S288C_WT_") >= 6
    assert "Unvalidated predictions." in page
    assert "Predict reference and alternative" not in page  # viewers may not start jobs


def test_a_model_of_two_replicates_stores_and_shows_their_spread(
    as_user, eddie, victor, validated_set, tiny_yeast_dir, tmp_path
):
    from django.core.management import call_command

    from genomeweb.catalog.models import Predictor
    from tests.conftest import make_tiny_yeast

    second = make_tiny_yeast(tmp_path / "second", seed=1)
    call_command(
        "register_model", "tiny2", architecture="yeast", weights=[tiny_yeast_dir, second],
        genome="mini",
    )  # fmt: skip
    tiny2 = Predictor.objects.get(name="tiny2")
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    assert as_user(eddie).post(url, score_form(model=tiny2.pk, replicates="2")).status_code == 302
    job = Job.objects.get(kind=JobKind.SCORE_VARIANTS, params__model="tiny2")
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    effects = list(VariantEffect.objects.filter(job=job).order_by("-max_abs"))
    assert all(e.primary_spread is not None and e.primary_spread > 0 for e in effects)
    assert GeneEffect.objects.filter(job=job, log_sed_spread__gt=0).exists()
    with np.load(job.artifacts.get(name="scores.npz").path) as npz:
        assert int(npz["replicates"]) == 2
        spread = np.load(job.artifacts.get(name="spread.npy").path)
        np.testing.assert_array_equal(spread, npz["spread"])
    viewer = as_user(victor)
    table = viewer.get(reverse("gw-effects", kwargs={"code": job.code})).content.decode()
    assert "2 replicates (each score their mean, ± their standard deviation)" in table
    with_genes = sum(e.top_gene_log_sed_spread is not None for e in effects)
    assert with_genes and table.count('<span class="spread"') == len(effects) + with_genes
    top = effects[0]
    page = viewer.get(reverse("gw-effect", kwargs={"code": job.code, "effect_id": top.pk}))
    assert f"± {top.primary_spread:.4f}" in page.content.decode()
    from genomeweb.api.models import ApiToken

    token = ApiToken.issue(victor, "test")[1]
    api = viewer.get(
        f"/api/v1/jobs/{job.code}/results", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert {item["primary_spread"] for item in api["items"]} == {e.primary_spread for e in effects}


def test_the_form_defaults_to_all_of_a_models_replicates(validated_set, tiny_yeast_dir, tmp_path):
    from django.core.management import call_command

    from genomeweb.catalog.models import Predictor
    from genomeweb.variants.forms import ScoreForm
    from tests.conftest import make_tiny_yeast

    Predictor.objects.all().delete()
    second = make_tiny_yeast(tmp_path / "second", seed=1)
    call_command(
        "register_model", "tiny2", architecture="yeast", weights=[tiny_yeast_dir, second],
        genome="mini",
    )  # fmt: skip
    assert ScoreForm.defaults(validated_set.genome)["replicates"] == "2"


def test_a_failed_analysis_can_be_run_again(as_user, eddie, validated_set):
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    client = as_user(eddie)
    client.post(url, score_form())
    first = Job.objects.get(kind=JobKind.SCORE_VARIANTS)
    first.fail("the GPU caught fire")
    client.post(url, score_form())
    assert Job.objects.filter(kind=JobKind.SCORE_VARIANTS).count() == 2


# --- large jobs run as parts ------------------------------------------------------------------


def submit_in_parts(client, validated_set, settings, size: int) -> Job:
    """A scoring job over the seven alleles with parts of about ``size``; the parent has run
    once (it split itself) and waits."""
    settings.SCORING_PART_ALLELES = size
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    Job.objects.filter(kind=JobKind.SCORE_VARIANTS).update(idempotency_key="")  # a fresh run
    client.post(url, score_form())
    job = Job.objects.filter(kind=JobKind.SCORE_VARIANTS, parent=None).first()
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    return job


def run_parts(job: Job) -> None:
    for part in job.parts.order_by("params__part"):
        tasks.run_job.apply(args=[part.pk])


def test_a_large_job_runs_in_parts_that_never_split_a_tile(as_user, eddie, validated_set, settings):
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=2)
    assert job.status == JobStatus.WAITING and job.worker == ""
    parts = job.parts.order_by("params__part")
    # sorted alleles by 192 bp tile: I:8, I:9, I:9, I:12, I:12, II:1, II:2 — a cut after two
    # alleles would split tile I:9, so the first part takes three
    assert [(p.params["first"], p.params["stop"]) for p in parts] == [(0, 3), (3, 5), (5, 7)]
    assert {p.kind for p in parts} == {JobKind.SCORE_VARIANTS_PART}
    assert all(p.workspace == job.workspace and p.created_by == eddie for p in parts)


def test_the_parts_report_one_combined_progress(as_user, eddie, validated_set, settings):
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=2)
    assert job.percent == 0
    first = job.parts.get(params__part=0)
    tasks.run_job.apply(args=[first.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING
    assert job.percent == 42  # 3 of 7 alleles
    assert job.parts_progress()["finished"] == 1
    page = as_user(eddie).get(reverse("gw-job", kwargs={"code": job.code})).content.decode()
    assert "1 of 3 parts finished" in page


def test_parts_give_the_scores_of_one_whole_run(as_user, eddie, scored, validated_set, settings):
    whole = VariantEffect.objects.filter(job=scored).order_by("variant__index")
    whole_npz = np.load(scored.artifacts.get(name="scores.npz").path)
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=3)
    assert job.parts.count() == 3
    run_parts(job)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED  # the last part queued it again, to join
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.summary["alleles"] == 7 and job.percent == 100
    parted = VariantEffect.objects.filter(job=job).order_by("variant__index")
    assert [e.max_abs for e in parted] == pytest.approx([e.max_abs for e in whole], rel=1e-5)
    assert (
        GeneEffect.objects.filter(job=job).count() == GeneEffect.objects.filter(job=scored).count()
    )
    parted_npz = np.load(job.artifacts.get(name="scores.npz").path)
    # batches of other sizes round differently (SUM sums 24 bins × 2 passes of float32)
    np.testing.assert_allclose(parted_npz["scores"], whole_npz["scores"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(parted_npz["gene_variant"], whole_npz["gene_variant"])
    assert set(job.artifacts.values_list("name", flat=True)) == set(
        scored.artifacts.values_list("name", flat=True)
    )


def test_a_part_run_twice_stores_its_rows_once(as_user, eddie, validated_set, settings):
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=3)
    first = job.parts.get(params__part=0)
    tasks.run_job.apply(args=[first.pk])
    # the worker died after storing, before acknowledging: the message comes again
    Job.objects.filter(pk=first.pk).update(status=JobStatus.QUEUED)
    tasks.run_job.apply(args=[first.pk])
    assert VariantEffect.objects.filter(job=job).count() == 3


def test_a_failed_part_fails_the_job_and_cancels_the_rest(as_user, eddie, validated_set, settings):
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=3)
    failing = job.parts.get(params__part=1)
    failing.fail("the GPU caught fire")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "Part 2 of 3 failed: the GPU caught fire"
    others = job.parts.exclude(pk=failing.pk)
    assert set(others.values_list("status", flat=True)) == {JobStatus.CANCELLED}


def test_cancelling_a_waiting_job_cancels_its_parts(as_user, eddie, validated_set, settings):
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=3)
    as_user(eddie).post(reverse("gw-job-cancel", kwargs={"code": job.code}))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert set(job.parts.values_list("status", flat=True)) == {JobStatus.CANCELLED}


def test_a_stray_message_for_a_waiting_job_is_dropped(as_user, eddie, validated_set, settings):
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=3)
    tasks.run_job.apply(args=[job.pk])  # e.g. a redelivered message
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and job.attempts == 1
