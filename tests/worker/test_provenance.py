"""Every succeeded job records its provenance (worker/provenance.py): on the row, in
provenance.json and on its pages; and a job built from a provenance gives the same numbers."""

import io
import json
import platform
import shutil
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import torch
from django.conf import settings
from django.urls import reverse

from engine.io.files import sha256_file, weights_file
from engine.models import runtime
from genomeweb.catalog.models import Genome, Predictor
from genomeweb.jobs.models import PROVENANCE_FILE, Job, JobKind, JobStatus
from genomeweb.variants.models import VariantSet
from tests.worker.test_interpret_tasks import run
from worker import provenance, tasks

ROOT = settings.BASE_DIR
CPU = {"type": "cpu", "name": "cpu", "autocast": None, "float32_matmul_precision": "highest"}
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(root, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


# --- the pure parts ---------------------------------------------------------------------------


@needs_git
def test_the_commit_is_the_checkout_head_and_the_version_is_pyproject_s():
    if not (ROOT / ".git").exists():
        pytest.skip("not run from a git checkout")
    app = provenance.app_section(ROOT)
    assert app["git_commit"] == git(ROOT, "rev-parse", "HEAD")
    with (ROOT / "pyproject.toml").open("rb") as handle:
        assert app["version"] == tomllib.load(handle)["project"]["version"]
    assert isinstance(app["dirty"], bool)


def test_the_commit_given_by_the_environment_wins_and_cannot_tell_dirtiness():
    app = provenance.app_section(ROOT, "0123abc")
    assert app["git_commit"] == "0123abc" and app["dirty"] is None


def test_outside_a_checkout_the_commit_is_unknown(tmp_path):
    app = provenance.app_section(tmp_path)
    assert app == {"version": "unknown", "git_commit": "unknown", "dirty": None}


@needs_git
def test_dirty_means_changed_tracked_files_not_new_ones(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "9.9"\n')
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x")
    (tmp_path / "untracked.txt").write_text("new")
    clean = provenance.app_section.__wrapped__(tmp_path)  # uncached: the tree changes below
    assert clean == {
        "version": "9.9",
        "git_commit": git(tmp_path, "rev-parse", "HEAD"),
        "dirty": False,
    }
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "10.0"\n')
    assert provenance.app_section.__wrapped__(tmp_path)["dirty"] is True


def test_package_versions_are_the_installed_ones():
    versions = provenance.package_versions()
    assert set(versions) == set(provenance.PACKAGES) | {"python"}
    assert versions["torch"] == torch.__version__
    assert versions["python"] == platform.python_version()


def test_a_missing_package_has_no_version(monkeypatch):
    monkeypatch.setattr(provenance, "PACKAGES", ("numpy", "no-such-distribution-here"))
    versions = provenance.package_versions.__wrapped__()
    assert versions["no-such-distribution-here"] is None and versions["numpy"]


def test_times_are_iso_8601_in_utc():
    moment = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert provenance.iso_utc(moment) == "2025-03-01T12:30:00+00:00"
    assert provenance.iso_utc(None) is None


def test_a_joined_job_takes_its_parts_model_and_their_device_when_they_agree():
    model = {"name": "tiny"}
    gpu = CPU | {"type": "cuda", "name": "NVIDIA H100"}
    same = provenance.joined_use([{"model": model, "device": CPU}] * 2)
    assert same == {"model": model, "device": CPU}
    mixed = provenance.joined_use(
        [{"model": model, "device": CPU}, {"model": model, "device": gpu}]
    )
    assert mixed == {"model": model, "device": None}


def test_the_file_has_sorted_keys_and_replaces_an_earlier_one(tmp_path):
    provenance.write({"b": 1, "a": {"d": 2, "c": 3}}, tmp_path, "p.json")
    path = provenance.write({"b": 1, "a": {"d": 2, "c": 4}}, tmp_path, "p.json")
    text = path.read_text()
    assert text.index('"a"') < text.index('"b"') and text.index('"c"') < text.index('"d"')
    assert json.loads(text)["a"]["c"] == 4 and [p.name for p in tmp_path.iterdir()] == ["p.json"]


# --- jobs -------------------------------------------------------------------------------------


def assert_job_section(job: Job) -> None:
    section = job.provenance["job"]
    assert section["kind"] == job.kind and section["code"] == str(job.code)
    assert section["params"] == job.params
    assert section["created"] == job.created.isoformat()
    assert section["started"] == job.started_at.isoformat()
    assert section["finished"] == job.finished_at.isoformat()
    assert section["worker"] == job.worker and section["attempts"] == job.attempts == 1


def assert_genome_section(job: Job, genome: Genome) -> None:
    assert job.provenance["genome"] == {
        "name": genome.name,
        "fasta_sha256": genome.fasta_sha256,
        "annotation_sha256": genome.annotation_sha256,
    }
    assert genome.fasta_sha256 == sha256_file(genome.fasta_file)


def assert_process_sections(job: Job) -> None:
    assert job.provenance["device"] == CPU | {
        "torch_threads": torch.get_num_threads(),
        "cuda": None,
    }
    assert job.provenance["packages"]["torch"] == torch.__version__
    assert job.provenance["app"] == provenance.app_section(ROOT, settings.GIT_COMMIT)
    if (ROOT / ".git").exists() and shutil.which("git") and not settings.GIT_COMMIT:
        assert job.provenance["app"]["git_commit"] == git(ROOT, "rev-parse", "HEAD")


def assert_file_matches_the_row(job: Job) -> None:
    artifact = job.artifacts.get(name=PROVENANCE_FILE)
    assert artifact.content_type == "application/json"
    assert artifact.sha256 == sha256_file(artifact.path)
    text = artifact.path.read_text()
    assert json.loads(text) == job.provenance
    assert text == json.dumps(job.provenance, indent=2, sort_keys=True) + "\n"


@pytest.mark.usefixtures("no_broker")
def test_an_ism_job_records_the_model_genome_params_times_and_packages(
    tiny_model, workspace, eddie
):
    job = run(workspace, eddie, JobKind.ISM)
    assert job.status == JobStatus.SUCCEEDED, job.error
    model = job.provenance["model"]
    assert model["name"] == "tiny" and model["architecture"] == "yeast"
    assert model["replicates"] == tiny_model.replicates  # paths and sha256 as registered
    assert model["replicates"][0]["sha256"] == sha256_file(
        weights_file(Path(tiny_model.replicates[0]["path"]))
    )
    assert (model["sequence_length"], model["bin_size"]) == (1024, 32)
    assert model["reverse_complement"] is True and model["shifts"] == [0]
    # the gene objective reads PAU8's strand (minus) tracks
    assert model["tracks"] and all(t.endswith(".minus") for t in model["tracks"])
    assert_job_section(job)
    assert_genome_section(job, tiny_model.genome)
    assert_process_sections(job)
    assert_file_matches_the_row(job)


@pytest.mark.usefixtures("no_broker")
def test_a_scoring_job_records_its_ensembling_and_tracks(scored):
    predictor = Predictor.objects.get(name="tiny")
    assert scored.status == JobStatus.SUCCEEDED, scored.error
    model = scored.provenance["model"]
    assert model["replicates"] == predictor.replicates[:1] and model["replicates_registered"] == 1
    assert model["tracks"] == scored.params["tracks"]
    assert model["reverse_complement"] is True and model["shifts"] == [0]
    assert_job_section(scored)
    assert_genome_section(scored, predictor.genome)
    assert_process_sections(scored)
    assert_file_matches_the_row(scored)
    assert scored.provenance["job"]["parts"] == []
    upload = VariantSet.objects.get(code=scored.params["variant_set"]).upload_path
    assert scored.provenance["inputs"]["vcf"] == {
        "name": "calls.vcf",
        "size": upload.stat().st_size,
        "sha256": sha256_file(upload),
    }


@pytest.mark.usefixtures("no_broker")
def test_a_validation_ran_no_model_but_records_its_genome(validated_set):
    job = validated_set.validation_job
    assert job.provenance["model"] is None and job.provenance["device"] is None
    assert job.provenance["inputs"]["vcf"]["sha256"] == sha256_file(validated_set.upload_path)
    assert_genome_section(job, validated_set.genome)
    assert_file_matches_the_row(job)


@pytest.mark.usefixtures("no_broker")
def test_an_attention_map_records_one_forward_pass_of_one_replicate(tiny_model, workspace, eddie):
    job = run(workspace, eddie, JobKind.ATTENTION, layer=1, head=None, region=["I", 1800, 1900])
    model = job.provenance["model"]
    assert model["reverse_complement"] is False and model["tracks"] == []
    assert len(model["replicates"]) == 1


@pytest.mark.usefixtures("no_broker")
def test_a_failed_job_has_no_provenance(tiny_model, workspace, eddie):
    job = run(workspace, eddie, JobKind.ISM, region=["I", 0, 2500])
    assert job.status == JobStatus.FAILED
    assert job.provenance == {} and not job.artifacts.filter(name=PROVENANCE_FILE).exists()


@pytest.mark.usefixtures("no_broker")
def test_a_job_joined_from_parts_records_its_parts_and_their_model(
    as_user, eddie, validated_set, settings
):
    from tests.worker.test_score_task import run_parts, submit_in_parts

    job = submit_in_parts(as_user(eddie), validated_set, settings, size=3)
    run_parts(job)
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    parts = list(job.parts.order_by("params__part"))
    assert job.provenance["job"]["parts"] == [str(part.code) for part in parts]
    for part in parts:
        assert part.provenance["job"]["parent"] == str(job.code)
        assert part.provenance["model"] == job.provenance["model"]
    assert job.provenance["model"]["tracks"] == job.params["tracks"]
    assert job.provenance["device"] == parts[0].provenance["device"]
    assert_file_matches_the_row(job)


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_broker")
def test_the_job_and_result_pages_show_the_short_sha256s_and_link_the_file(
    tiny_model, workspace, eddie, victor, as_user
):
    job = run(workspace, eddie, JobKind.ISM)
    weights = tiny_model.replicates[0]["sha256"][:12]
    fasta = tiny_model.genome.fasta_sha256[:12]
    artifact = job.artifacts.get(name=PROVENANCE_FILE)
    link = reverse("gw-artifact-named", args=[artifact.code, artifact.name])
    client = as_user(victor)
    for page in ("gw-job", "gw-interpretation"):
        body = client.get(reverse(page, kwargs={"code": job.code})).content.decode()
        assert '<details class="provenance' in body and "<strong>Provenance</strong>" in body
        assert weights in body and fasta in body and link in body
        assert job.provenance["app"]["git_commit"][:12] in body
    downloaded = client.get(link)
    assert json.loads(b"".join(downloaded.streaming_content)) == job.provenance


@pytest.mark.usefixtures("no_broker")
def test_the_effects_page_shows_the_provenance(scored, as_user, victor):
    body = as_user(victor).get(reverse("gw-effects", kwargs={"code": scored.code}))
    assert scored.provenance["model"]["replicates"][0]["sha256"][:12] in body.content.decode()


def test_a_job_without_provenance_shows_no_section(as_user, victor, workspace, alice):
    job = Job.objects.create(workspace=workspace, created_by=alice, kind=JobKind.ISM)
    body = as_user(victor).get(reverse("gw-job", kwargs={"code": job.code})).content.decode()
    assert "Provenance" not in body


# --- reproducibility --------------------------------------------------------------------------
# Compared bit for bit (np.array_equal), not with a tolerance: on the CPU the same torch build
# runs the same kernels on the same inputs, in the same batches, order and thread count, so any
# difference at all would mean something in the provenance is missing. (On a GPU, bf16 autocast
# and cuDNN's algorithm choice make allclose the right test; no GPU test runs here.)


def rerun(first: Job, monkeypatch) -> Job:
    """Run a new job built from ``first``'s provenance.json, loading the weights from disk
    again (and checking their sha256) as a new worker process would."""
    record = json.loads(first.artifacts.get(name=PROVENANCE_FILE).path.read_text())
    monkeypatch.setattr(runtime, "_CACHE", {})
    second = job_from(record, first.workspace, first.created_by)
    tasks.run_job.apply(args=[second.pk])
    second.refresh_from_db()
    assert second.status == JobStatus.SUCCEEDED, second.error
    for section in ("model", "genome", "device", "packages", "app"):
        assert second.provenance[section] == record[section], section
    assert second.provenance["job"]["params"] == record["job"]["params"]
    return second


def job_from(record: dict, workspace, user) -> Job:
    """A new job with the kind and parameters of ``record`` (a provenance.json), after checking
    that the model's weights and the genome are still the ones it ran on."""
    model, genome = record["model"], record["genome"]
    predictor = Predictor.objects.get(name=model["name"])
    registered = predictor.replicates[: len(model["replicates"])]
    assert registered == model["replicates"], "the model was re-registered with other weights"
    assert predictor.genome.name == genome["name"]
    assert predictor.genome.fasta_sha256 == genome["fasta_sha256"], "the genome changed"
    assert predictor.genome.annotation_sha256 == genome["annotation_sha256"]
    return Job.objects.create(
        workspace=workspace,
        created_by=user,
        kind=record["job"]["kind"],
        params=record["job"]["params"],
    )


def saved_arrays(job: Job, name: str) -> dict:
    with np.load(job.artifacts.get(name=name).path) as saved:
        return {key: saved[key] for key in saved.files}


def assert_identical(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(second[key], first[key], err_msg=key)


@pytest.mark.usefixtures("no_broker")
def test_a_scoring_job_built_from_a_provenance_gives_the_same_scores(scored, monkeypatch):
    second = rerun(scored, monkeypatch)
    first_scores = saved_arrays(scored, "scores.npz")
    assert np.abs(first_scores["scores"]).max() > 0
    assert_identical(first_scores, saved_arrays(second, "scores.npz"))


@pytest.mark.usefixtures("no_broker")
def test_a_job_built_from_the_provenance_of_a_demo_model_ism_gives_the_same_numbers(
    workspace, eddie, monkeypatch
):
    from django.core.management import call_command

    from genomeweb.catalog.models import Gene

    call_command("load_demo", stdout=io.StringIO())
    his3 = Gene.objects.named(Genome.objects.get(name="sacCer3"), "HIS3")
    upstream = his3.start - 40 if his3.strand == "+" else his3.end + 24
    first = Job.objects.create(
        workspace=workspace,
        created_by=eddie,
        kind=JobKind.ISM,
        params={
            "model": "yeast-demo",
            "region": [his3.chrom, upstream, upstream + 16],  # 16 bp of its promoter
            "objective": {"gene": his3.gene_id},
            "log": True,
            "reverse_complement": True,
        },
    )
    tasks.run_job.apply(args=[first.pk])
    first.refresh_from_db()
    assert first.status == JobStatus.SUCCEEDED, first.error
    assert first.provenance["model"]["replicates"][0]["path"] == "data/models/yeast-demo"

    second = rerun(first, monkeypatch)
    before = saved_arrays(first, "ism.npz")
    assert before["effects"].shape == (16, 4) and np.abs(before["effects"]).max() > 0
    assert_identical(before, saved_arrays(second, "ism.npz"))
    assert second.summary["reference_objective"] == first.summary["reference_objective"]
    assert second.summary["strongest"] == first.summary["strongest"]
