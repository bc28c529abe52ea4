"""The object-storage path (GW_STORAGE=s3) passes the filesystem path's bundle, download, Range
and access tests, against a real S3 server on loopback (conftest.py says which and why).

The filesystem tests are imported here and so run a second time, with every test of this module
switched to a fresh bucket first (``on_s3``). A worker keeps computing in its local job folder;
what the web reads comes from the bucket: downloads are streamed from it, and files read whole
(numpy arrays, the bundle's inputs) are fetched copies under ``GW_RESULTS_DIR/.fetched``.
"""

import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.results.models import Artifact
from genomeweb.results.storage import FETCHED, results_are_local
from genomeweb.variants.models import VariantEffect
from genomeweb.variants.submit import submit_variant_set
from tests.results.test_bundle_job import (  # noqa: F401  (run again here, on S3)
    ask_for_bundle,
    test_a_job_that_did_not_succeed_has_no_bundle,
    test_a_scoring_bundle_holds_inputs_outputs_and_an_offline_report,
    test_a_scoring_bundle_opens_in_igv_desktop_and_any_browser_as_bed,
    test_a_scoring_job_without_scored_alleles_is_bundled_without_a_report,
    test_an_ism_bundle_holds_the_matrix_figure_and_motifs,
    test_each_provenance_in_a_bundle_says_whose_it_is,
    test_the_same_contents_reuse_one_zip,
)
from tests.scoring import calls_vcf, score_form
from tests.test_access import ALLOWED, CASES, World
from tests.worker.test_score_task import (  # noqa: F401  (run again here, on S3)
    test_an_editor_predicts_tracks_and_the_page_configures_igv,
    test_the_page_lists_scores_by_track_and_gene,
    test_the_results_table_sorts_and_filters,
)
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")

ARTIFACT_URLS = ["gw-artifact", "gw-artifact-named"]


@pytest.fixture(autouse=True)
def on_s3(s3_bucket):
    """Every test here runs with results and uploads in a new bucket."""
    assert not results_are_local()
    return s3_bucket


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def stored(bucket, key: str) -> bytes:
    return bucket.Object(key).get()["Body"].read()


# ---- the switch ----


def test_gw_storage_picks_the_backend_and_rejects_anything_else(tmp_path):
    code = (
        "import genomeweb.settings as s; "
        "print(s.STORAGES['results']['BACKEND'], s.STORAGES['uploads']['OPTIONS'].get('location'))"
    )
    env = {"PATH": "/usr/bin:/bin", "GW_VAR_DIR": str(tmp_path), "GW_SECRET_KEY": "x"}

    def run(**more):
        return subprocess.run(
            [sys.executable, "-c", code], env=env | more, capture_output=True, text=True
        )

    assert run().stdout.split() == ["genomeweb.results.storage.SettingDirStorage", "None"]
    assert run(GW_STORAGE="s3").stdout.split() == ["storages.backends.s3.S3Storage", "uploads"]
    bad = run(GW_STORAGE="nfs")
    assert bad.returncode != 0 and "GW_STORAGE must be filesystem or s3" in bad.stderr


# ---- what a job records is in the bucket ----


def test_recorded_files_are_uploaded_under_the_job_code(variant_set, on_s3):
    artifact = variant_set.validation_job.artifacts.get(name="issues.tsv")
    key = f"results/{variant_set.validation_job.code}/issues.tsv"
    assert artifact.relative_path == f"{variant_set.validation_job.code}/issues.tsv"
    content = "line\tstatus\treason\tdetail\ttext\n" + "x" * 1000 + "\n"
    assert stored(on_s3, key) == content.encode() and artifact.size == len(content)


# ---- downloads: the same access check, then the object streamed with Range ----


@pytest.fixture
def scores_tsv(scored) -> Artifact:
    return scored.artifacts.get(name="scores.tsv")


def test_a_download_streams_the_object_from_the_bucket(as_user, victor, scores_tsv, on_s3):
    url = reverse("gw-artifact-named", args=[scores_tsv.code, scores_tsv.name])
    response = as_user(victor).get(url)
    content = stored(on_s3, f"results/{scores_tsv.relative_path}")
    assert response.status_code == 200 and body(response) == content
    assert response["Content-Length"] == str(scores_tsv.size) == str(len(content))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == 'attachment; filename="scores.tsv"'


@pytest.mark.parametrize(
    "header, start, end",
    [("bytes=0-63", 0, 63), ("bytes=10-", 10, None), ("bytes=-7", -7, None)],
)
def test_a_range_is_a_ranged_get_answered_206(
    as_user, victor, scores_tsv, on_s3, header, start, end
):
    url = reverse("gw-artifact", args=[scores_tsv.code])
    response = as_user(victor).get(url, HTTP_RANGE=header)
    content = stored(on_s3, f"results/{scores_tsv.relative_path}")
    wanted = content[start : None if end is None else end + 1]
    assert response.status_code == 206 and body(response) == wanted
    first = start % len(content)
    last = first + len(wanted) - 1
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(content)}"
    assert response["Content-Length"] == str(len(wanted))


def test_nginx_is_not_asked_for_a_file_that_is_in_the_bucket(as_user, victor, scores_tsv, settings):
    settings.X_ACCEL_PREFIX = "/internal-results/"  # compose sets it for GW_STORAGE=filesystem
    response = as_user(victor).get(reverse("gw-artifact", args=[scores_tsv.code]))
    assert "X-Accel-Redirect" not in response and len(body(response)) == scores_tsv.size


def test_a_range_past_the_end_is_416(as_user, victor, scores_tsv):
    url = reverse("gw-artifact", args=[scores_tsv.code])
    response = as_user(victor).get(url, HTTP_RANGE=f"bytes={scores_tsv.size}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{scores_tsv.size}"


def test_a_file_gone_from_the_bucket_is_404(as_user, victor, scores_tsv, on_s3):
    on_s3.Object(f"results/{scores_tsv.relative_path}").delete()
    url = reverse("gw-artifact", args=[scores_tsv.code])
    assert as_user(victor).get(url).status_code == 404


@pytest.fixture
def world(variant_set, alice, eddie, victor, bob):
    """tests/test_access.py's: the variant set's validation job has one recorded file."""
    users = {"owner": alice, "editor": eddie, "viewer": victor, "outsider": bob}
    return World(variant_set, users), users


@pytest.mark.parametrize("name", ARTIFACT_URLS)
def test_outsiders_get_404(world, client, name):
    w, users = world
    client.force_login(users["outsider"])
    method, _, kwargs = CASES[name]
    response = getattr(client, method)(reverse(name, kwargs=kwargs(w)), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
@pytest.mark.parametrize("name", ARTIFACT_URLS)
def test_members_read_the_file(world, client, name, role):
    w, users = world
    method, need, kwargs = CASES[name]
    assert need in ALLOWED[role]
    client.force_login(users[role])
    response = getattr(client, method)(reverse(name, kwargs=kwargs(w)), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and body(response) == b"line\tstatu"


@pytest.mark.parametrize("name", ARTIFACT_URLS)
def test_anonymous_users_are_sent_to_login(world, client, name):
    w, _ = world
    method, _, kwargs = CASES[name]
    response = getattr(client, method)(reverse(name, kwargs=kwargs(w)))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# ---- bundles read from the bucket ----


def test_a_result_file_gone_from_the_bucket_fails_the_bundle_with_its_name(
    as_user, eddie, scored, on_s3, settings
):
    artifact = scored.artifacts.get(name="scores.tsv")
    on_s3.Object(f"results/{artifact.relative_path}").delete()
    (settings.RESULTS_DIR / artifact.relative_path).unlink()  # and the worker's scratch copy
    artifact.local_path.unlink(missing_ok=True)  # and a copy fetched by an earlier test
    ask_for_bundle(as_user(eddie), scored)
    bundle = Job.objects.get(kind=JobKind.BUNDLE)
    tasks.run_job.apply(args=[bundle.pk])
    bundle.refresh_from_db()
    assert bundle.status == JobStatus.FAILED
    assert bundle.error == "Files of this job are no longer on disk: outputs/scores.tsv"


# ---- no shared disk: a worker elsewhere, the web here ----


def test_a_worker_with_empty_folders_of_its_own_runs_jobs_the_web_serves(
    as_user, eddie, victor, workspace, genome, tiny_yeast_dir, settings, tmp_path, on_s3
):
    web = {"RESULTS_DIR": tmp_path / "web" / "results", "UPLOAD_DIR": tmp_path / "web" / "uploads"}
    worker = {
        "RESULTS_DIR": tmp_path / "worker" / "results",
        "UPLOAD_DIR": tmp_path / "worker" / "uploads",
    }

    def on(host: dict) -> None:
        for name, folder in host.items():
            folder.mkdir(parents=True, exist_ok=True)
            setattr(settings, name, folder)

    def run_on_worker(job: Job) -> Job:
        on(worker)
        tasks.run_job.apply(args=[job.pk])
        on(web)
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        return job

    on(web)
    call_command(
        "register_model", "tiny", architecture="yeast", weights=[tiny_yeast_dir], genome="mini"
    )
    variant_set = submit_variant_set(
        workspace=workspace,
        user=eddie,
        genome=genome,
        name="calls",
        upload=SimpleUploadedFile("calls.vcf", calls_vcf(genome)),
        submission="0b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d",
    )
    assert stored(on_s3, f"uploads/{variant_set.stored_name}") == calls_vcf(genome)
    run_on_worker(variant_set.validation_job)
    # The worker had no copy of the upload: it fetched one from the bucket to validate it.
    assert (worker["UPLOAD_DIR"] / variant_set.stored_name).read_bytes() == calls_vcf(genome)
    score_url = reverse("gw-variantset-score", kwargs={"code": variant_set.code})
    as_user(eddie).post(score_url, score_form())
    scored = run_on_worker(Job.objects.get(kind=JobKind.SCORE_VARIANTS))

    # Nothing the jobs wrote is on the web's disk; every file is in the bucket.
    jobs = [variant_set.validation_job, scored]
    assert not any((web["RESULTS_DIR"] / str(job.code)).exists() for job in jobs)
    for artifact in Artifact.objects.filter(job__in=jobs):
        assert on_s3.Object(f"results/{artifact.relative_path}").content_length == artifact.size

    client = as_user(victor)
    tsv = scored.artifacts.get(name="scores.tsv")
    written = (worker["RESULTS_DIR"] / tsv.relative_path).read_bytes()
    response = client.get(reverse("gw-artifact", args=[tsv.code]), HTTP_RANGE="bytes=5-40")
    assert response.status_code == 206 and body(response) == written[5:41]
    effect = VariantEffect.objects.filter(job=scored).order_by("-max_abs").first()
    url = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    assert client.get(url).content.decode().count("<td>stripeseq_S288C_WT_") >= 6
    # The allele's page read its row of the scores matrix from a copy the web fetched.
    matrix = scored.artifacts.get(name="scores.npy")
    assert (web["RESULTS_DIR"] / FETCHED / matrix.sha256 / "scores.npy").is_file()

    ask_for_bundle(as_user(eddie), scored)
    bundle = run_on_worker(Job.objects.get(kind=JobKind.BUNDLE))
    zipped = bundle.artifacts.get()
    page = client.get(reverse("gw-bundle", kwargs={"code": scored.code})).content.decode()
    assert reverse("gw-artifact", args=[zipped.code]) in page or zipped.name in page
    download = client.get(reverse("gw-artifact", args=[zipped.code]))
    assert download.status_code == 200 and body(download)[:2] == b"PK"
    assert len(body(client.get(reverse("gw-artifact", args=[zipped.code])))) == zipped.size
