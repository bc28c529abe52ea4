"""A finished job's bundle: asked for from its page, built once by the worker, opened with the
usual tools."""

import io
import json
import os
import zipfile
from xml.etree import ElementTree

import numpy as np
import pyBigWig
import pysam
import pytest
from django.urls import reverse

from genomeweb.catalog.models import Predictor
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantEffect
from tests.engine.pipeline.test_report import sessions
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")


def ask_for_bundle(client, job, **form):
    return client.post(reverse("gw-bundle", kwargs={"code": job.code}), {"report_top": 3} | form)


def run_bundle(job) -> Job:
    bundle = Job.objects.filter(kind=JobKind.BUNDLE, params__job=str(job.code)).latest("created")
    tasks.run_job.apply(args=[bundle.pk])
    bundle.refresh_from_db()
    assert bundle.status == JobStatus.SUCCEEDED, bundle.error
    return bundle


def open_zip(bundle: Job) -> zipfile.ZipFile:
    return zipfile.ZipFile(bundle.artifacts.get().path)


def test_a_scoring_bundle_holds_inputs_outputs_and_an_offline_report(
    as_user, victor, scored, tmp_path
):
    client = as_user(victor)  # any member may bundle: it only packages results
    page = client.get(reverse("gw-bundle", kwargs={"code": scored.code})).content.decode()
    assert "Build the bundle" in page and "before compression" in page
    first, second = ask_for_bundle(client, scored), ask_for_bundle(client, scored)
    assert first.status_code == second.status_code == 302
    assert Job.objects.filter(kind=JobKind.BUNDLE).count() == 1
    bundle = run_bundle(scored)
    artifact = bundle.artifacts.get()
    assert artifact.name == f"genomeweb-score_variants-{str(scored.code)[:8]}.zip"

    with open_zip(bundle) as archive:
        names = archive.namelist()
        assert names[0] == "README.txt" and archive.testzip() is None
        assert {
            "outputs/scores.tsv",
            "outputs/annotated.vcf.gz",
            "outputs/scores.npz",
            "inputs/calls.vcf",
            "inputs/normalized.vcf.gz",
            "report.html",
        } <= set(names)
        tracks = [n for n in names if n.startswith("report_tracks/")]
        assert len(tracks) == 3 * 3  # ref, alt, alt − ref
        assert {"top_hits.bed", "igv_session.xml"} <= set(names)
        archive.extractall(tmp_path)
        readme = archive.read("README.txt").decode()
    assert "inputs/calls.vcf" in readme and "pysam.VariantFile" in readme
    provenance = json.loads((tmp_path / "provenance.json").read_text())
    predictor = Predictor.objects.get(name="tiny")
    assert provenance["model"]["replicates"][0]["sha256"] == predictor.replicates[0]["sha256"]
    assert provenance["genome"]["fasta_sha256"] == predictor.genome.fasta_sha256
    first = sorted((tmp_path / "report_tracks").glob("001.ref.*.bw"))[0]
    with pyBigWig.open(str(first)) as bigwig:
        assert bigwig.isBigWig() and bigwig.header()["nBasesCovered"] > 0
    records = list(pysam.VariantFile(str(tmp_path / "outputs" / "annotated.vcf.gz")))
    assert len(records) == 7 and all("GW_logSED" in r.info for r in records)
    with np.load(tmp_path / "outputs" / "scores.npz") as scores:
        assert np.isfinite(scores[scores.files[0]]).all()
    report = (tmp_path / "report.html").read_text()
    top = VariantEffect.objects.filter(job=scored).order_by("-max_abs", "variant_id")
    idents = [effect.variant.ident for effect in top]
    assert all(f'"{ident}"' in report for ident in idents[:3])
    assert not any(f'"{ident}"' in report for ident in idents[3:])  # only the top 3
    assert "<script src=" not in report and "<link" not in report  # nothing to fetch

    page = client.get(reverse("gw-bundle", kwargs={"code": scored.code})).content.decode()
    assert (
        "Download bundle" in page
        and reverse("gw-artifact", args=[artifact.code]) in page
        or (reverse("gw-artifact-named", args=[artifact.code, artifact.name]) in page)
    )


def test_the_same_contents_reuse_one_zip(as_user, eddie, scored):
    client = as_user(eddie)
    ask_for_bundle(client, scored, report_top=2)
    first = run_bundle(scored)
    ask_for_bundle(client, scored, report_top=2)  # the same request: the same job
    assert Job.objects.filter(kind=JobKind.BUNDLE).count() == 1
    again = Job.objects.create(
        workspace=scored.workspace,
        created_by=eddie,
        kind=JobKind.BUNDLE,
        params={"job": str(scored.code), "report_top": 2},
    )
    tasks.run_job.apply(args=[again.pk])
    again.refresh_from_db()
    assert again.summary["contents"] == first.summary["contents"]
    one, two = first.artifacts.get().path, again.artifacts.get().path
    assert os.stat(one).st_ino == os.stat(two).st_ino  # one file on disk


def test_an_ism_bundle_holds_the_matrix_figure_and_motifs(as_user, eddie, workspace, tiny_model):
    ism = Job.objects.create(
        workspace=workspace,
        created_by=eddie,
        kind=JobKind.ISM,
        params={
            "model": "tiny",
            "region": ["I", 1800, 1824],
            "objective": {"gene": "YAL068C"},
            "log": True,
            "reverse_complement": False,
        },
    )
    tasks.run_job.apply(args=[ism.pk])
    ask_for_bundle(as_user(eddie), Job.objects.get(pk=ism.pk))
    with open_zip(run_bundle(ism)) as archive:
        names = set(archive.namelist())
        effects = np.load(io.BytesIO(archive.read("outputs/ism.npz")))["effects"]
    assert {"outputs/ism.svg", "outputs/ism.png", "outputs/motifs.bed"} <= names
    assert "report.html" not in names and effects.shape == (24, 4)


def test_a_job_that_did_not_succeed_has_no_bundle(as_user, eddie, workspace):
    queued = Job.objects.create(workspace=workspace, created_by=eddie, kind=JobKind.ISM)
    assert (
        as_user(eddie).post(reverse("gw-bundle", kwargs={"code": queued.code})).status_code == 404
    )


def test_a_scoring_job_without_scored_alleles_is_bundled_without_a_report(as_user, eddie, scored):
    VariantEffect.objects.filter(job=scored).update(max_abs=None)  # as if every allele failed
    ask_for_bundle(as_user(eddie), scored)
    with open_zip(run_bundle(scored)) as archive:
        names = set(archive.namelist())
    assert "outputs/scores.tsv" in names and "report.html" not in names


def test_a_result_file_gone_from_disk_fails_the_bundle_with_its_name(as_user, eddie, scored):
    scored.artifacts.get(name="scores.tsv").path.unlink()
    ask_for_bundle(as_user(eddie), scored)
    bundle = Job.objects.get(kind=JobKind.BUNDLE)
    tasks.run_job.apply(args=[bundle.pk])
    bundle.refresh_from_db()
    assert bundle.status == JobStatus.FAILED
    assert bundle.error == "Files of this job are no longer on disk: outputs/scores.tsv"


def test_each_provenance_in_a_bundle_says_whose_it_is(scored):
    from genomeweb.results.contents import job_entries

    entries = {item.name: item for item in job_entries(scored)}
    own, inputs = entries["provenance.json"], entries["inputs/validation-provenance.json"]
    assert f"Provenance of this job (Variant effects job {str(scored.code)[:8]})" in (
        own.description
    )
    assert inputs.description.startswith("Provenance of the VCF validation job ")
    assert not any("provenance-2" in name for name in entries)


def test_a_scoring_bundle_opens_in_igv_desktop_and_any_browser_as_bed(
    as_user, eddie, scored, tmp_path
):
    ask_for_bundle(as_user(eddie), scored, report_top=2)
    with open_zip(run_bundle(scored)) as archive:
        archive.extractall(tmp_path)
        names = set(archive.namelist())
    top = list(
        VariantEffect.objects.filter(job=scored, max_abs__isnull=False)
        .select_related("variant")
        .order_by("-max_abs", "variant_id")
    )
    bed = [
        line.split("\t")
        for line in (tmp_path / "top_hits.bed").read_text().splitlines()
        if not line.startswith(("track", "#"))
    ]
    assert len(bed) == len(top)
    for fields, effect in zip(bed, top, strict=True):
        variant = effect.variant
        end = variant.start + len(variant.ref)
        assert fields[:4] == [variant.chrom, str(variant.start), str(end), variant.ident]
        assert float(fields[6]) == pytest.approx(effect.primary, rel=1e-5)
        assert fields[8] == effect.top_track
    assert bed[0][4] == "1000"  # the strongest is shaded fully
    session = ElementTree.parse(tmp_path / "igv_session.xml").getroot()
    assert session.get("genome") == "mini"
    first = top[0].variant
    assert session.get("locus").startswith(f"{first.chrom}:")
    paths = [resource.get("path") for resource in session.iter("Resource")]
    assert "top_hits.bed" in paths and "outputs/annotated.vcf.gz" in paths
    assert all(path in names for path in paths)  # every path opens inside the unzipped bundle
    delta = [p for p in paths if ".delta." in p]
    assert len(delta) == 2 and all(
        resource.get("color")
        for resource in session.iter("Resource")
        if ".bw" in resource.get("path")
    )
    session = next(iter(sessions((tmp_path / "report.html").read_text()).values()))
    names = [track["name"] for track in session["tracks"]]
    assert any(name.startswith("predicted alternative − reference") for name in names)
