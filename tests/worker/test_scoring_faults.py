"""Scoring jobs under worker faults, with real processes and the demo model: a takeover resumes
from the last checkpoint, and an input that keeps killing its worker is failed fast, by name."""

import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from genomeweb.catalog.models import Genome, Predictor
from genomeweb.jobs.models import FailureReason, Job, JobStatus
from genomeweb.variants.models import VariantEffect
from genomeweb.variants.submit import submit_scoring, submit_variant_set
from tests.worker.conftest import kill_group, wait_for
from tests.worker.test_worker_faults import FAST_RECOVERY, many_snvs, pool_child

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MEMORY_LIMIT = 48 << 20  # bytes of new memory the worker may take in the OOM test
CHUNK = 24  # alleles per checkpoint: a few seconds of the demo model on one CPU thread
ONE_THREAD = {"OMP_NUM_THREADS": "1", "GW_SCORING_CHECKPOINT_ALLELES": str(CHUNK)}


def note_fault(line: str) -> None:
    """What a fault test measured, for the closing note (test-artifacts/faults.txt)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "faults.txt").open("a") as out:
        out.write(line + "\n")


def validated_set(workspace, user, start_worker, count: int, **env):
    """A validated set of ``count`` demo-genome SNVs, and the worker that validated it."""
    call_command("load_demo")
    genome = Genome.objects.get(name="sacCer3")
    content, expected = many_snvs(genome, count, seed=5)
    variant_set = submit_variant_set(
        workspace=workspace,
        user=user,
        genome=genome,
        name="screen",
        upload=SimpleUploadedFile("screen.vcf", content),
        submission=uuid.uuid4(),
    )
    worker = start_worker("first", **env)
    validation = variant_set.validation_job
    wait_for(lambda: Job.objects.get(pk=validation.pk).is_final, 120, "the validation")
    variant_set.refresh_from_db()
    assert variant_set.accepted == expected
    return variant_set, worker


def submit_demo_scoring(variant_set, user) -> Job:
    predictor = Predictor.objects.get(name="yeast-demo")
    tracks = list(predictor.tracks.order_by("index").values_list("identifier", flat=True))[:2]
    params = {
        "variant_set": str(variant_set.code),
        "model": predictor.name,
        "tracks": tracks,
        "scorers": ["logSED", "SUM"],
        "reverse_complement": False,
        "shifts": [0],
        "replicates": 1,
        "genes": False,
    }
    return submit_scoring(variant_set=variant_set, user=user, params=params)


class ProgressWatch:
    """Samples a job's progress every 0.1 s in a thread, as a member's page would."""

    def __init__(self, job: Job) -> None:
        self.job, self.samples, self._stop = job, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        from django.db import connection

        try:
            while not self._stop.wait(0.1):
                row = Job.objects.filter(pk=self.job.pk).values("status", "progress_done").get()
                self.samples.append(row["progress_done"])
        finally:
            connection.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_takeover_resumes_from_the_last_checkpoint(start_worker, alice, workspace):
    env = FAST_RECOVERY | ONE_THREAD
    variant_set, first = validated_set(workspace, alice, start_worker, 240, **env)
    job = submit_demo_scoring(variant_set, alice)

    with ProgressWatch(job) as watch:
        wait_for(lambda: Job.objects.get(pk=job.pk).progress_done >= 100, 240, "some chunks")
        before_kill = Job.objects.get(pk=job.pk).progress_done
        kill_group(first, signal.SIGKILL)  # parent and pool child: only the heartbeat can tell
        start_worker("second", **env)
        wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 300, "the takeover")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2 and job.worker.startswith("second@")
    assert len(job.crashes) == 1 and "heartbeats" in job.crashes[0]["how"]
    assert VariantEffect.objects.filter(job=job).count() == variant_set.accepted  # once each
    assert watch.samples == sorted(watch.samples), "progress went backwards"
    redone = before_kill - job.progress_resumed
    note_fault(
        f"worker SIGKILL mid-scoring: {before_kill}/{job.progress_total} alleles done at the "
        f"kill, resumed from {job.progress_resumed}, redone {redone}, attempts {job.attempts}"
    )
    assert 0 <= redone <= 2 * CHUNK, (before_kill, job.progress_resumed)  # a chunk, tile-rounded
    folder = settings.RESULTS_DIR / str(job.code)
    assert not (folder / "checkpoints").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_input_that_keeps_killing_its_worker_fails_fast_naming_the_records(
    start_worker, alice, workspace
):
    # Default heartbeat staleness (120 s): the parent's report alone must make it fast.
    assert settings.JOB_STALE_SECONDS >= 120
    variant_set, worker = validated_set(workspace, alice, start_worker, 60, **ONE_THREAD)
    job = submit_demo_scoring(variant_set, alice)
    first_kill = None
    for attempt in (1, 2, 3):  # as if one record crashed native code each time it was scored

        def scoring(attempt=attempt):
            row = Job.objects.get(pk=job.pk)
            return row.attempts == attempt and row.working_on != ""

        wait_for(scoring, 120, f"attempt {attempt} to start a chunk")
        os.kill(pool_child(worker), signal.SIGKILL)
        first_kill = first_kill or time.monotonic()

    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 120, "the attempt guard")
    took = time.monotonic() - first_kill
    note_fault(f"crash loop (pool child killed 3x in one chunk): failed {took:.1f} s after kill 1")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 3
    assert took < settings.JOB_STALE_SECONDS, took  # not minutes of stale heartbeats
    assert "stopped the worker 3 times" in job.error
    assert f"Each time it was working on records 1-{CHUNK}" in job.error, job.error
    assert job.failure_reason == FailureReason.WORKER_CRASHED
    assert [crash["attempt"] for crash in job.crashes] == [1, 2, 3]
    assert all("SIGKILL" in crash["how"] for crash in job.crashes), job.crashes
    assert not VariantEffect.objects.filter(job=job).exists()
    assert not (settings.RESULTS_DIR / str(job.code)).exists()  # no checkpoints left behind


@pytest.fixture
def small_results_disk(tmp_path):
    """A 4 MiB tmpfs for the results (root may mount one; CI runs as root here)."""
    mount = tmp_path / "results"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave_bytes: int) -> Path:
    """Fill ``disk`` but for ``leave_bytes``; returns the ballast file."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    ballast = disk / "ballast"
    ballast.write_bytes(b"\0" * (free - leave_bytes))
    return ballast


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_full_results_disk_fails_the_job_plainly_leaves_nothing_and_can_be_retried(
    small_results_disk, start_worker, alice, workspace, settings
):
    settings.RESULTS_DIR = small_results_disk
    env = ONE_THREAD | {"GW_RESULTS_DIR": str(small_results_disk)}
    variant_set, _ = validated_set(workspace, alice, start_worker, 60, **env)
    ballast = fill(small_results_disk, leave_bytes=16 * 1024)  # less than the exports need

    job = submit_demo_scoring(variant_set, alice)
    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 180, "the scoring job")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("The results storage is full; an administrator must free space.")
    assert "Nothing was stored" in job.error
    assert job.failure_reason == FailureReason.STORAGE_FULL
    assert "No space left on device" in job.failure_detail
    assert job.attempts == 1  # a full disk is not a crash to retry
    assert not VariantEffect.objects.filter(job=job).exists()
    assert not job.artifacts.exists()
    assert not (small_results_disk / str(job.code)).exists()  # partial files removed
    note_fault(f"results disk full: {job.error!r}; reason {job.failure_reason}")

    ballast.unlink()  # an administrator frees space; the member runs the same job again
    again = submit_demo_scoring(variant_set, alice)
    assert again.pk != job.pk
    wait_for(lambda: Job.objects.get(pk=again.pk).is_final, 180, "the retried job")
    again.refresh_from_db()
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert VariantEffect.objects.filter(job=again).count() == variant_set.accepted


@pytest.fixture
def memory_cgroup():
    """A cgroup (v1) whose memory limit the kernel enforces with its out-of-memory killer."""
    group = Path("/sys/fs/cgroup/memory") / f"gw-test-{uuid.uuid4().hex[:8]}"
    group.mkdir()
    yield group
    for pid in (group / "cgroup.procs").read_text().split():  # the workers are gone by now
        Path("/sys/fs/cgroup/memory/cgroup.procs").write_text(pid)
    group.rmdir()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_for_memory_fails_the_job_saying_so(
    memory_cgroup, start_worker, alice, workspace
):
    env = ONE_THREAD | {"GW_JOB_MAX_ATTEMPTS": "1"}  # the next pool process is not limited
    variant_set, worker = validated_set(workspace, alice, start_worker, 60, **env)
    # From now on the pool process's new memory (the model, its activations) is charged to a
    # group far too small for them: the kernel kills it as it loads or scores.
    (memory_cgroup / "cgroup.procs").write_text(str(pool_child(worker)))
    (memory_cgroup / "memory.limit_in_bytes").write_text(str(MEMORY_LIMIT))

    job = submit_demo_scoring(variant_set, alice)
    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 240, "the attempt guard")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.failure_reason == FailureReason.OUT_OF_MEMORY, (job.error, job.crashes)
    assert job.error.startswith("The job stopped the worker once")
    assert "killed the worker for lack of memory" in job.error
    assert job.attempts == 1
    assert all(crash["memory"] for crash in job.crashes), job.crashes
    assert not VariantEffect.objects.filter(job=job).exists()
    kills = (memory_cgroup / "memory.oom_control").read_text()
    note_fault(f"worker OOM (cgroup {MEMORY_LIMIT >> 20} MiB): {job.error!r}; {kills.split()}")
