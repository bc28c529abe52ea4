"""The embedded default (SQLite + filesystem broker) under load: a long VCF validation in a real
worker while the web answers polls. Nobody waits for the database long enough to give up on it
("database is locked"), and the job's heartbeat keeps beating through the whole run."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.io.vcf import Variant as Allele
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantSet
from tests.demo import demo_env, free_port, is_up
from worker.jobs import vcf

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RECORDS = 260_526  # the size of Ensembl's S. cerevisiae variation file (bench/make_yeast_vcf.py)
HEARTBEAT_SECONDS = 1
# The longest the heartbeat may stand still: a few beats, far below the sweeper's patience
# (GW_JOB_STALE_SECONDS, 120 s) and below SQLite's 30 s busy timeout.
LONGEST_HEARTBEAT_GAP_SECONDS = 8
BOUNDARY = "gw-sqlite-test"


class EmbeddedSite:
    """The demo's processes (migrate, load_demo, a worker with beat, gunicorn) on their own
    var/ folder, without scripts/demo.sh's install step."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = demo_env(folder / "var") | {
            "GW_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "GW_SECRET_KEY": "embedded-sqlite-test",
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.worker_log = folder / "worker.log"
        self.web_log = folder / "web.log"
        self.procs: list[subprocess.Popen] = []

    @property
    def database(self) -> Path:
        return self.folder / "var" / "genomeweb.sqlite3"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_demo")
        self._spawn(
            [str(BIN / "celery"), "-A", "genomeweb", "worker", "-Q", "gpu,maintenance"]
            + ["-I", "worker.tasks", "-B", "--concurrency=1", "-n", "embedded@%h"]
            + ["--loglevel=INFO"],
            self.worker_log,
        )
        self._spawn(
            [str(BIN / "gunicorn"), "genomeweb.wsgi:application"]
            + ["--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--timeout", "300"],
            self.web_log,
        )
        deadline = time.monotonic() + 300
        while not is_up(f"{self.url}/accounts/login/"):
            assert time.monotonic() < deadline, self.web_log.read_text()[-3000:]
            time.sleep(0.5)

    def _spawn(self, command: list[str], log: Path) -> None:
        self.procs.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def stop(self) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def embedded_site(tmp_path):
    site = EmbeddedSite(tmp_path)
    try:
        site.start()
        yield site
    finally:
        site.stop()


def api(site: EmbeddedSite, token: str, path: str, body: bytes = b"", content_type: str = ""):
    request = urllib.request.Request(f"{site.url}/api/v1{path}", data=body or None)
    request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def upload_body(vcf: Path) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="genome"\r\n\r\nsacCer3\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="vcf"; filename="{vcf.name}"\r\n'
            "Content-Type: application/gzip\r\n\r\n"
        ).encode()
        + vcf.read_bytes()
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def heartbeat_at(database: Path, job_code: str) -> str | None:
    """The job row's heartbeat, read beside the app (WAL lets a reader in during a write)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        row = db.execute(
            "SELECT heartbeat_at FROM jobs_job WHERE code = ?", (job_code.replace("-", ""),)
        ).fetchone()
    return row[0] if row else None


def make_vcf(folder: Path) -> Path:
    vcf = folder / "yeast_ensembl_sized.vcf.gz"
    subprocess.run(
        [sys.executable, "bench/make_yeast_vcf.py", "--records", str(RECORDS), "--out", str(vcf)],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    return vcf


def watch_until_final(site: EmbeddedSite, token: str, job_code: str) -> list[tuple[float, str]]:
    """Poll the job through the web, as its page does, and sample its heartbeat each time;
    return (when, heartbeat) for every change seen while it ran."""
    changes: list[tuple[float, str]] = []
    deadline = time.monotonic() + 900
    while True:
        job = api(site, token, f"/jobs/{job_code}")
        beat = heartbeat_at(site.database, job_code)
        if beat and (not changes or changes[-1][1] != beat):
            changes.append((time.monotonic(), beat))
        if job["is_final"]:
            assert job["status"] == "succeeded", job
            return changes
        assert time.monotonic() < deadline, "the validation did not finish in 15 minutes"
        time.sleep(0.5)


@pytest.mark.slow
def test_a_long_validation_never_locks_out_the_heartbeat_or_the_web(embedded_site, tmp_path):
    site = embedded_site
    token = site.manage("create_api_token", "demo", "sqlite test").split()[-1]
    workspaces = api(site, token, "/workspaces")
    lab = next(w["code"] for w in workspaces if w["name"] == "Demo lab")
    body = upload_body(make_vcf(tmp_path))
    started = time.monotonic()
    variant_set = api(
        site,
        token,
        f"/workspaces/{lab}/variant-sets",
        body,
        f"multipart/form-data; boundary={BOUNDARY}",
    )
    changes = watch_until_final(site, token, variant_set["validation_job"]["code"])
    ran = time.monotonic() - started

    log = site.worker_log.read_text() + site.web_log.read_text()
    assert "database is locked" not in log
    assert api(site, token, f"/variant-sets/{variant_set['code']}")["accepted"] > RECORDS * 0.9
    assert len(changes) >= ran / (4 * HEARTBEAT_SECONDS), (ran, changes)
    times = [when for when, _beat in changes]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert max(gaps) < LONGEST_HEARTBEAT_GAP_SECONDS, (ran, gaps)


# --- The batched insert itself (portable ORM code, so checked here on PostgreSQL) -----------


@pytest.fixture
def running_job(workspace):
    return Job.objects.create(
        workspace=workspace, kind=JobKind.VALIDATE_VCF, status=JobStatus.RUNNING, attempts=1
    )


@pytest.fixture
def empty_set(workspace, genome, running_job):
    return VariantSet.objects.create(
        workspace=workspace, genome=genome, size=1, validation_job=running_job
    )


ALLELES = [Allele("I", start, "A", "G", f"rs{start}", start) for start in range(100, 107)]


def stored_indexes(variant_set) -> list[int]:
    return list(variant_set.variants.order_by("id").values_list("index", flat=True))


def claim_by_another_attempt_after(batches: int, job: Job):
    """bulk_create that lets ``batches`` batches in, then has another worker take the job."""
    real = vcf.Variant.objects.bulk_create
    calls = []

    def bulk_create(rows):
        calls.append(len(rows))
        if len(calls) == batches:
            Job.objects.filter(pk=job.pk).update(attempts=job.attempts + 1)
        return real(rows)

    return bulk_create


def test_the_batched_insert_commits_each_batch_in_index_order(running_job, empty_set, monkeypatch):
    monkeypatch.setattr(vcf, "VARIANT_BATCH", 3)
    assert vcf._insert_variants_in_batches(running_job, empty_set, ALLELES)
    assert stored_indexes(empty_set) == list(range(7))


def test_an_attempt_that_lost_the_job_stops_and_the_new_owner_replaces_its_rows(
    running_job, empty_set, monkeypatch
):
    monkeypatch.setattr(vcf, "VARIANT_BATCH", 3)
    bulk_create = claim_by_another_attempt_after(1, running_job)
    monkeypatch.setattr(vcf.Variant.objects, "bulk_create", bulk_create)
    assert not vcf._insert_variants_in_batches(running_job, empty_set, ALLELES)
    assert stored_indexes(empty_set) == [0, 1, 2]  # its first batch, before the claim

    monkeypatch.undo()
    monkeypatch.setattr(vcf, "VARIANT_BATCH", 3)
    new_owner = Job.objects.get(pk=running_job.pk)
    assert vcf._insert_variants_in_batches(new_owner, empty_set, ALLELES)
    assert stored_indexes(empty_set) == list(range(7))


def test_a_lost_job_that_failed_keeps_no_rows_and_a_running_one_keeps_them(running_job, empty_set):
    vcf._insert_variants_in_batches(running_job, empty_set, ALLELES)
    vcf._drop_variants_of_ended_job(running_job, empty_set)  # still running (elsewhere): kept
    assert len(stored_indexes(empty_set)) == 7
    Job.objects.filter(pk=running_job.pk).update(status=JobStatus.FAILED)
    vcf._drop_variants_of_ended_job(running_job, empty_set)
    assert stored_indexes(empty_set) == []
