"""The job state machine: claims, attempts, heartbeats, cancellation, exactly-once finish."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from genomeweb.jobs.models import Claim, Job, JobKind, JobStatus


@pytest.fixture
def job(workspace, alice):
    return Job.objects.create(workspace=workspace, created_by=alice, kind=JobKind.VALIDATE_VCF)


def claim(job, worker="w1"):
    return Job.claim(job.pk, worker=worker, task_id="t")


def make_stale(job):
    old = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=old)


def test_a_queued_job_is_claimed_once(job):
    assert claim(job) == Claim.CLAIMED
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1 and job.worker == "w1"
    assert claim(job, "w2") == Claim.BUSY  # a redelivered message while w1 is alive


def test_a_running_job_with_a_stale_heartbeat_is_taken_over(job):
    claim(job)
    make_stale(job)
    assert claim(job, "w2") == Claim.CLAIMED
    job.refresh_from_db()
    assert job.attempts == 2 and job.worker == "w2"


@override_settings(JOB_MAX_ATTEMPTS=3)
def test_it_fails_a_job_that_kept_killing_its_worker(job):
    for _ in range(3):
        assert claim(job) == Claim.CLAIMED
        make_stale(job)  # the worker died without a trace
    assert claim(job) == Claim.GONE
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "3 times" in job.error


def test_final_jobs_are_not_claimed(job):
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    assert claim(job) == Claim.GONE


def test_a_worker_that_lost_the_job_cannot_finish_it(job):
    claim(job)
    first = Job.objects.get(pk=job.pk)
    make_stale(job)
    claim(job, "w2")
    second = Job.objects.get(pk=job.pk)
    assert not first.finish({"from": "w1"})
    assert second.finish({"from": "w2"})
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.summary == {"from": "w2"}


def test_cancelling_a_queued_job_ends_it_at_once(job):
    job.request_cancel()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None
    assert claim(job) == Claim.GONE


def test_cancelling_a_running_job_asks_the_worker(job):
    claim(job)
    running = Job.objects.get(pk=job.pk)
    running.request_cancel()
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING and running.cancel_requested
    assert running.beat() is True  # the heartbeat tells the worker


def test_progress_and_percent(job):
    claim(job)
    running = Job.objects.get(pk=job.pk)
    running.set_progress(25, 200)
    running.refresh_from_db()
    assert (running.progress_done, running.progress_total, running.percent) == (25, 200, 12)


def test_submit_with_the_same_key_returns_the_first_job(workspace, alice):
    first, created = Job.submit(
        workspace=workspace, user=alice, kind=JobKind.VALIDATE_VCF, params={}, idempotency_key="k1"
    )
    again, created_again = Job.submit(
        workspace=workspace, user=alice, kind=JobKind.VALIDATE_VCF, params={}, idempotency_key="k1"
    )
    assert created and not created_again and first.pk == again.pk
    assert Job.objects.count() == 1


def test_the_same_key_in_another_workspace_is_another_job(workspace, alice, bob):
    from genomeweb.workspaces.models import Workspace

    other = Workspace.objects.create(name="Other lab", created_by=bob)
    Job.submit(
        workspace=workspace, user=alice, kind=JobKind.VALIDATE_VCF, params={}, idempotency_key="k1"
    )
    _, created = Job.submit(
        workspace=other, user=bob, kind=JobKind.VALIDATE_VCF, params={}, idempotency_key="k1"
    )
    assert created


@pytest.mark.parametrize(
    "seconds, text", [(0.42, "0.4 s"), (125, "2 min 5 s"), (3 * 3600 + 125, "3 h 2 min")]
)
def test_duration_reads_like_a_person_would_say_it(job, seconds, text):
    job.started_at = timezone.now() - timedelta(seconds=seconds)
    job.finished_at = job.started_at + timedelta(seconds=seconds)
    assert job.duration_text == text


def test_idempotency_keys_fit_the_column_whatever_the_parameters():
    from genomeweb.jobs.models import Job, idempotency_key

    tracks = [f"stripeseq_S288C_diamide_{i}.minus" for i in range(8)]
    key = idempotency_key("tracks", {"effects_job": "f" * 36, "effect": 10**12, "tracks": tracks})
    assert len(key) <= Job._meta.get_field("idempotency_key").max_length
    assert key == idempotency_key(
        "tracks", {"tracks": tracks, "effect": 10**12, "effects_job": "f" * 36}
    )
    assert key != idempotency_key("tracks", {"tracks": tracks[:7], "effect": 10**12})
