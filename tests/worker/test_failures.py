"""How a failure reads: the machine's conditions in words a user can act on, a bug as a
reference; what the worker's parent records when a pool process dies; what a failure removes."""

import errno
from unittest import mock

import pytest

from genomeweb.jobs.models import FailureReason, Job, JobStatus
from genomeweb.results.models import Artifact
from genomeweb.results.storage import job_dir, record_artifact
from tests.worker.test_tasks import mini_vcf, run, submit
from worker import failures, tasks


@pytest.fixture(autouse=True)
def no_broker():
    with mock.patch("genomeweb.jobs.enqueue.app.send_task", autospec=True):
        yield


@pytest.mark.parametrize(
    "code, reason, words",
    [
        (errno.ENOSPC, FailureReason.STORAGE_FULL, "storage is full"),
        (errno.EDQUOT, FailureReason.STORAGE_QUOTA, "quota is used up"),
        (errno.EROFS, FailureReason.STORAGE_READ_ONLY, "read-only"),
        (errno.EACCES, FailureReason.STORAGE_PERMISSION, "may not write"),
    ],
)
def test_storage_errors_are_named(code, reason, words):
    failure = failures.classify(OSError(code, "whatever the OS says", "/results/x/scores.tsv"))
    assert failure.reason == reason
    assert words in failure.message and "Nothing was stored" in failure.message
    assert "scores.tsv" in failure.detail and "/results" not in failure.message


@pytest.mark.parametrize(
    "error",
    [
        MemoryError(),
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate"),
    ],
)
def test_running_out_of_memory_is_named(error):
    failure = failures.classify(error)
    assert failure.reason == FailureReason.OUT_OF_MEMORY and "out of memory" in failure.message


def test_anything_else_is_not_classified():
    assert failures.classify(RuntimeError("shape mismatch")) is None
    assert failures.classify(OSError(errno.ECONNRESET, "reset")) is None


def test_a_sigkill_counts_as_memory_only_when_the_kernel_counted_an_oom_kill():
    with mock.patch.object(failures, "oom_kills", return_value=8):
        assert failures.killed_for_memory("signal 9 (SIGKILL)", kills_before=7)
        assert not failures.killed_for_memory("signal 9 (SIGKILL)", kills_before=8)
        assert not failures.killed_for_memory("signal 11 (SIGSEGV)", kills_before=7)
        assert not failures.killed_for_memory("signal 9 (SIGKILL)", kills_before=-1)


def test_a_full_disk_fails_the_job_and_removes_what_the_attempt_wrote(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = variant_set.validation_job

    def fills_the_disk(job, progress):
        (job_dir(job) / "checkpoints").mkdir()
        (job_dir(job) / "checkpoints" / "chunk-0-400.npz").write_bytes(b"saved")
        (job_dir(job) / "scores.tsv").write_text("half a fi")
        raise OSError(errno.ENOSPC, "No space left on device", str(job_dir(job) / "scores.tsv"))

    with mock.patch.dict(tasks.HANDLERS, {"validate_vcf": fills_the_disk}):
        job = run(job)
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert job.error.startswith("The results storage is full")
    assert job.failure_reason == FailureReason.STORAGE_FULL
    assert "No space left on device" in job.failure_detail
    assert not job_dir(job).joinpath("scores.tsv").exists()
    assert not list(job_dir(job).iterdir())


def test_a_failure_keeps_the_files_that_are_recorded(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = Job.objects.get(pk=variant_set.validation_job.pk)
    kept = job_dir(job) / "report.json"
    kept.write_text("{}")
    record_artifact(job, kept, content_type="application/json")
    (job_dir(job) / "partial.tsv").write_text("x")
    assert job.fail("stopped", reason=FailureReason.INTERNAL)
    assert kept.exists() and not (job_dir(job) / "partial.tsv").exists()
    assert Artifact.objects.filter(job=job).count() == 1


def test_a_lost_pool_process_is_recorded_and_frees_the_job_at_once(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = variant_set.validation_job
    assert Job.claim(job.pk, worker="w1@host", task_id="t1") == "claimed"
    job.refresh_from_db()
    job.set_working_on("records 1-400 (I:100 A>G ... I:900 C>T)")

    assert not Job.worker_lost(job.pk, worker="w2@host", how="signal 9", memory=False)
    assert Job.worker_lost(
        job.pk, worker="w1@host", how="its process died: signal 9 (SIGKILL)", memory=True
    )
    assert not Job.objects.get(pk=job.pk).has_live_worker()
    # the redelivered message takes it now, not after JOB_STALE_SECONDS
    assert Job.claim(job.pk, worker="w1@host", task_id="t2") == "claimed"
    job.refresh_from_db()
    assert job.attempts == 2 and job.working_on == ""
    (crash,) = job.crashes
    assert crash["attempt"] == 1 and crash["memory"] and "SIGKILL" in crash["how"]
    assert crash["working_on"].startswith("records 1-400")


def test_three_deaths_in_the_same_records_name_them(workspace, eddie, genome, settings):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = variant_set.validation_job
    for attempt in range(1, settings.JOB_MAX_ATTEMPTS + 1):
        assert Job.claim(job.pk, worker="w@h", task_id=f"t{attempt}") == "claimed"
        Job.objects.get(pk=job.pk).set_working_on("records 1-400 (I:100 A>G ... I:900 C>T)")
        Job.worker_lost(
            job.pk, worker="w@h", how="its process died: signal 11 (SIGSEGV)", memory=False
        )
    assert Job.claim(job.pk, worker="w@h", task_id="last") == "gone"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.failure_reason == FailureReason.WORKER_CRASHED
    assert "stopped the worker 3 times" in job.error
    assert "Each time it was working on records 1-400 (I:100 A>G" in job.error
    assert job.failure_detail.count("SIGSEGV") == 3


def test_administrators_see_why_a_job_failed(client, workspace, eddie, genome, admin_user):
    from django.core.management import call_command

    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = Job.objects.get(pk=variant_set.validation_job.pk)
    job.fail("The results storage is full.", reason="storage_full", detail="OSError: [Errno 28]")

    client.force_login(eddie)  # a member sees the message, not the machine's detail
    page = client.get(f"/jobs/{job.code}/").content.decode()
    assert "The results storage is full." in page and "Errno 28" not in page

    workspace.memberships.create(user=admin_user, role="viewer")
    client.force_login(admin_user)
    page = client.get(f"/jobs/{job.code}/").content.decode()
    assert "Results storage full" in page and "OSError: [Errno 28]" in page

    from io import StringIO

    out = StringIO()
    call_command("job_failures", stdout=out)
    assert f"{job.code} validate_vcf" in out.getvalue() and "Results storage full" in out.getvalue()
