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


@pytest.mark.parametrize("kind", list(JobKind))
@pytest.mark.parametrize("done, total", [(0, 0), (0, 1), (1, 2), (19, 20)])
def test_a_succeeded_job_is_at_100_percent_whatever_its_last_report(
    workspace, alice, kind, done, total
):
    job = Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=kind,
        status=JobStatus.SUCCEEDED,
        progress_done=done,
        progress_total=total,
    )
    assert job.percent == 100


def test_the_first_report_starts_the_clock_and_a_new_attempt_resets_it(job):
    claim(job)
    running = Job.objects.get(pk=job.pk)
    running.set_progress(0, 100)
    began = Job.objects.get(pk=job.pk).progress_started_at
    assert began is not None
    running.set_progress(10, 100)
    assert Job.objects.get(pk=job.pk).progress_started_at == began
    make_stale(job)
    claim(job, "w2")
    assert Job.objects.get(pk=job.pk).progress_started_at is None


@pytest.mark.parametrize("done, total, elapsed", [(25, 100, 60), (1, 3, 10), (999, 1000, 5000)])
def test_the_time_left_follows_the_jobs_own_rate(workspace, alice, done, total, elapsed):
    now = timezone.now()
    job = Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.RUNNING,
        progress_done=done,
        progress_total=total,
        progress_started_at=now - timedelta(seconds=elapsed),
    )
    rate = done / elapsed
    assert job.remaining_seconds(now) == pytest.approx((total - done) / rate)
    assert job.eta_text.startswith("about ") and job.eta_text.endswith(" left")


@pytest.mark.parametrize(
    "status, done, began",
    [
        (JobStatus.RUNNING, 0, True),  # no rate before the first unit of work is done
        (JobStatus.RUNNING, 5, False),  # still starting up (an older row)
        (JobStatus.SUCCEEDED, 5, True),
        (JobStatus.QUEUED, 0, False),
    ],
)
def test_no_time_left_is_said_without_a_rate(workspace, alice, status, done, began):
    job = Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=JobKind.ISM,
        status=status,
        progress_done=done,
        progress_total=10,
        progress_started_at=timezone.now() - timedelta(seconds=30) if began else None,
    )
    assert job.remaining_seconds() is None and job.eta_text == ""


def test_a_waiting_job_counts_finished_parts_whole_and_times_from_its_first_part(workspace, alice):
    now = timezone.now()
    job = Job.objects.create(
        workspace=workspace, created_by=alice, kind=JobKind.SCORE_VARIANTS, status=JobStatus.WAITING
    )
    parts = [(JobStatus.SUCCEEDED, 5, 90), (JobStatus.RUNNING, 2, 30), (JobStatus.QUEUED, 0, None)]
    for status, done, seconds_ago in parts:
        began = None if seconds_ago is None else now - timedelta(seconds=seconds_ago)
        Job.objects.create(
            workspace=workspace,
            created_by=alice,
            kind=JobKind.SCORE_VARIANTS_PART,
            parent=job,
            status=status,
            progress_done=done,
            progress_total=10,
            progress_started_at=began,
        )
    done = 10 + 2  # the finished part's last report (5) was throttled: it counts whole
    assert job.parts_progress()["done"] == done and job.percent == int(100 * done / 30)
    assert job.remaining_seconds(now) == pytest.approx(90 * (30 - done) / done)
