"""A model's score background: built once by a command, then every job's scores get
percentiles and beyond-noise flags that anyone can reproduce from the stored file."""

import csv
import io
import json
import re
import zipfile

import numpy as np
import pysam
import pytest
from django.core.management import call_command
from django.urls import reverse

from engine.io.annotation import read_genes
from engine.io.vcf import Variant as EngineVariant
from engine.variants.background import Background, calibrate, distance_strata
from genomeweb.catalog.models import Predictor, resolve_data_path
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.backgrounds import current_background, register_background
from genomeweb.variants.models import ScoreBackground, VariantEffect, VariantSet
from tests.scoring import score_form
from tests.worker.test_score_task import run_parts, submit_in_parts
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")


@pytest.fixture
def tiny_background(validated_set, tmp_path) -> ScoreBackground:
    """The tiny model's background: 3 random SNVs per distance stratum of the mini genome
    (no base of it is 5 kb from a gene start: that stratum stays empty)."""
    out = io.StringIO()
    path = tmp_path / "tiny-background.npz"
    call_command("build_background", model="tiny", per_stratum=3, seed=1, out=path, stdout=out)
    assert "9 random SNVs of mini scored by tiny (3 at 0–250 bp" in out.getvalue()
    return current_background(Predictor.objects.get(name="tiny"))


def score(client, validated_set) -> Job:
    client.post(reverse("gw-variantset-score", kwargs={"code": validated_set.code}), score_form())
    job = Job.objects.get(kind=JobKind.SCORE_VARIANTS, parent=None)
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def reproduce(job: Job, row: ScoreBackground) -> np.ndarray:
    """The job's ``(alleles, tracks, scorers)`` percentiles, recomputed from the stored matrix
    and the background file alone."""
    scores = np.load(job.artifacts.get(name="scores.npy").path)
    predictor = Predictor.objects.get(name=job.params["model"])
    genes = read_genes(resolve_data_path(predictor.genome.annotation_path))
    variants = _variants(job)
    background = Background.load(resolve_data_path(row.path))
    strata = distance_strata(variants, genes, background.edges)
    return calibrate(
        background, scores, strata, job.params["scorers"], job.params["tracks"], ""
    ).percentile


def _variants(job: Job) -> list[EngineVariant]:
    variant_set = VariantSet.objects.get(code=job.params["variant_set"])
    return [
        EngineVariant(v.chrom, v.start, v.ref, v.alt, v.ident, v.line)
        for v in variant_set.variants.order_by("index")
    ]


def test_a_background_is_built_registered_once_and_refused_for_other_weights(
    tiny_background, tmp_path
):
    predictor = Predictor.objects.get(name="tiny")
    path = resolve_data_path(tiny_background.path)
    assert tiny_background.snvs == 9 and len(tiny_background.sha256) == 64
    assert register_background(predictor, path) == tiny_background  # the same file: one row
    assert set(tiny_background.about["noise"]) == set(
        predictor.tracks.values_list("identifier", flat=True)
    )
    other = Background.load(path)
    other = Background(
        other.scorers,
        other.track_ids,
        other.values,
        other.strata,
        other.noise,
        other.about | {"weights_sha256": ["0" * 64]},
    )
    with pytest.raises(ValueError, match="built with other weights"):
        register_background(predictor, other.save(tmp_path / "other.npz"))


def test_every_surface_carries_percentiles_reproducible_from_the_stored_background(
    as_user, eddie, tiny_background, validated_set
):
    job = score(as_user(eddie), validated_set)
    expected = reproduce(job, tiny_background)  # (V, T, S)
    stored = np.load(job.artifacts.get(name="percentile.npy").path)
    np.testing.assert_allclose(stored, expected, rtol=1e-6)
    tracks, scorers = job.params["tracks"], job.params["scorers"]
    effects = VariantEffect.objects.filter(job=job).select_related("variant")
    assert effects.count() == 7
    for effect in effects:
        row = expected[effect.variant.index]
        at = tracks.index(effect.top_track)
        assert effect.primary_pct == pytest.approx(row[at, 0], rel=1e-6)
        assert 0 <= effect.primary_pct <= 100 and effect.beyond_noise in (True, False)
        for s, name in enumerate(scorers):
            assert effect.top_track_pct[name] == pytest.approx(row[at, s], rel=1e-6)
            own = tracks.index(effect.scorer_track[name])
            assert effect.scorer_pct[name] == pytest.approx(row[own, s], rel=1e-6)

    with open(job.artifacts.get(name="scores.tsv").path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    header = list(rows[0])
    assert header.index("logSED_pct") == header.index("logSED") + 1 and "beyond_noise" in header
    first = effects.get(variant__index=0)
    line = next(r for r in rows if r["id"] == first.variant.ident and r["track"] == first.top_track)
    assert float(line["logSED_pct"]) == pytest.approx(first.primary_pct, abs=1e-4)

    vcf = pysam.VariantFile(str(job.artifacts.get(name="annotated.vcf.gz").path))
    assert "random SNVs of mini" in vcf.header.info["GW_logSED_PCT"].description
    assert all("GW_logSED_PCT" in record.info for record in vcf)

    provenance = json.loads(job.artifacts.get(name="provenance.json").path.read_text())
    assert provenance["model"]["background"]["sha256"] == tiny_background.sha256


def test_a_job_in_parts_is_calibrated_like_a_whole_one(
    as_user, eddie, tiny_background, validated_set, settings
):
    whole = score(as_user(eddie), validated_set)
    job = submit_in_parts(as_user(eddie), validated_set, settings, size=2)
    run_parts(job)
    tasks.run_job.apply(args=[job.pk])  # the join
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    np.testing.assert_allclose(
        np.load(job.artifacts.get(name="percentile.npy").path),
        np.load(whole.artifacts.get(name="percentile.npy").path),
        rtol=1e-5,
    )
    by_variant = {e.variant_id: e.primary_pct for e in VariantEffect.objects.filter(job=whole)}
    for effect in VariantEffect.objects.filter(job=job):
        assert effect.primary_pct == pytest.approx(by_variant[effect.variant_id], rel=1e-5)


def test_a_changed_background_file_fails_the_job_with_a_clear_message(
    as_user, eddie, tiny_background, validated_set
):
    with open(resolve_data_path(tiny_background.path), "ab") as handle:
        handle.write(b"tampered")
    client = as_user(eddie)
    client.post(reverse("gw-variantset-score", kwargs={"code": validated_set.code}), score_form())
    job = Job.objects.get(kind=JobKind.SCORE_VARIANTS)
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "is missing or was changed" in job.error and "build_background" in job.error


def test_the_table_shows_filters_and_sorts_by_percentile(
    as_user, eddie, tiny_background, validated_set
):
    job = score(as_user(eddie), validated_set)
    url = reverse("gw-effects", kwargs={"code": job.code})
    client = as_user(eddie)
    page = client.get(url).content.decode()
    assert "Percentile" in page and ("beyond noise" in page or "within noise" in page)
    effects = VariantEffect.objects.filter(job=job).select_related("variant")
    for effect in effects:
        row = next(r for r in page.split("<tr>") if f">{effect.variant.ident}<" in r)
        assert f">{effect.primary_pct:.1f}<" in row
    cut = sorted(e.primary_pct for e in effects)[3]
    kept = client.get(url, {"min_pct": cut}).content.decode()
    assert f"{sum(e.primary_pct >= cut for e in effects)} allele" in kept
    ranked = client.get(url, {"sort": "percentile", "dir": "desc"}).content.decode()
    order = [e.variant.ident for e in sorted(effects, key=lambda e: (-e.primary_pct, e.variant_id))]
    positions = [ranked.index(f">{ident}<") for ident in order]
    assert positions == sorted(positions)


def test_the_variant_page_and_the_report_show_the_percentile(
    as_user, eddie, tiny_background, validated_set, tmp_path
):
    from tests.results.test_bundle_job import ask_for_bundle, run_bundle

    job = score(as_user(eddie), validated_set)
    effect = VariantEffect.objects.filter(job=job).order_by("-max_abs", "variant_id").first()
    page = (
        as_user(eddie)
        .get(reverse("gw-effect", kwargs={"code": job.code, "effect_id": effect.pk}))
        .content.decode()
    )
    noise = "beyond noise" if effect.beyond_noise else "within noise"
    assert "percentile <span" in page and f">{effect.primary_pct:.1f}<" in page and noise in page
    assert f" p{effect.top_track_pct[job.params['scorers'][1]]:.1f}" in page  # by-track table

    ask_for_bundle(as_user(eddie), job, report_top=1)
    with zipfile.ZipFile(run_bundle(job).artifacts.get().path) as archive:
        report = archive.read("report.html").decode()
    table = json.loads(re.search(r"const tableJson = (.*)\n", report)[1])
    row = table["rows"][0]
    assert row[table["headers"].index("percentile")] == f"{effect.primary_pct:.4g}"
    assert row[table["headers"].index("placement noise")] == noise.split()[0]


def test_the_model_page_says_what_the_percentiles_are_measured_against(
    as_user, eddie, tiny_background
):
    page = as_user(eddie).get(reverse("gw-model", args=["tiny"])).content.decode()
    section = page.split('id="calibration"')[1].split("</section>")[0]
    assert "9 random SNVs of mini scored by tiny" in section and "beyond noise" in section
    background = Background.load(resolve_data_path(tiny_background.path))
    t, s = background.track_ids.index(background.track_ids[0]), background.scorers.index("SUM")
    p99 = np.nanpercentile(np.abs(background.values[:, t, s]), 99)
    noise = background.noise[t, s]
    assert f"{p99:.3f}" in section and f"{noise:.3f}" in section
