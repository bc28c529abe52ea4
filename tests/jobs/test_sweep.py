from datetime import timedelta
from unittest import mock

import pytest
from django.test import override_settings
from django.utils import timezone

from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.jobs.sweep import sweep_jobs


@pytest.fixture
def sent():
    with mock.patch("genomeweb.jobs.enqueue.app.send_task", autospec=True) as send_task:
        yield send_task


def make_job(workspace, user, **fields):
    return Job.objects.create(
        workspace=workspace, created_by=user, kind=JobKind.VALIDATE_VCF, **fields
    )


def an_hour_ago():
    return timezone.now() - timedelta(hours=1)


def test_it_resends_queued_jobs_nobody_took(workspace, alice, sent):
    job = make_job(workspace, alice, queued_at=an_hour_ago())
    fresh = make_job(workspace, alice)
    report = sweep_jobs()
    assert report.resent == 1
    sent.assert_called_once_with("worker.run_job", args=[job.pk], queue="gpu")
    assert fresh.pk != job.pk


def test_it_requeues_running_jobs_whose_worker_went_silent(workspace, alice, sent):
    job = make_job(
        workspace, alice, status=JobStatus.RUNNING, attempts=1, heartbeat_at=an_hour_ago()
    )
    report = sweep_jobs()
    job.refresh_from_db()
    assert report.requeued == 1 and job.status == JobStatus.QUEUED
    sent.assert_called_once()


@override_settings(JOB_MAX_ATTEMPTS=3)
def test_it_fails_silent_jobs_that_used_their_attempts(workspace, alice, sent):
    job = make_job(
        workspace, alice, status=JobStatus.RUNNING, attempts=3, heartbeat_at=an_hour_ago()
    )
    report = sweep_jobs()
    job.refresh_from_db()
    assert report.failed == 1 and job.status == JobStatus.FAILED
    assert "stopped the worker 3 times" in job.error
    sent.assert_not_called()


def test_it_leaves_live_jobs_alone(workspace, alice, sent):
    make_job(workspace, alice, status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    report = sweep_jobs()
    assert (report.resent, report.requeued, report.failed) == (0, 0, 0)
    sent.assert_not_called()


def test_a_broker_outage_leaves_the_job_queued(workspace, alice, sent):
    sent.side_effect = ConnectionError("broker down")
    job = make_job(workspace, alice, queued_at=an_hour_ago())
    sweep_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
