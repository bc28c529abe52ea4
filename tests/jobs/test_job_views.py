from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from genomeweb.jobs.models import Job, JobKind, JobStatus


@pytest.fixture
def job(workspace, alice):
    return Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=JobKind.VALIDATE_VCF,
        status=JobStatus.RUNNING,
        progress_done=3,
        progress_total=4,
    )


def test_the_page_polls_while_the_job_runs(as_user, victor, job):
    response = as_user(victor).get(reverse("gw-job", kwargs={"code": job.code}))
    assert response.status_code == 200
    assert b'hx-trigger="every 2s"' in response.content
    assert b"75%" in response.content


def test_the_fragment_keeps_polling_while_running(as_user, victor, job):
    url = reverse("gw-job", kwargs={"code": job.code})
    response = as_user(victor).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content and b'id="job-status"' in response.content


def test_polling_stops_once_the_job_is_final(as_user, victor, job):
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="REF mismatch everywhere")
    url = reverse("gw-job", kwargs={"code": job.code})
    response = as_user(victor).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert b"hx-trigger" not in response.content
    assert b"REF mismatch everywhere" in response.content


def test_an_editor_can_cancel(as_user, eddie, job):
    response = as_user(eddie).post(reverse("gw-job-cancel", kwargs={"code": job.code}))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.cancel_requested


def test_enqueue_sends_the_job_id_after_commit(
    workspace, alice, django_capture_on_commit_callbacks
):
    from genomeweb.jobs.enqueue import enqueue

    job = Job.objects.create(workspace=workspace, created_by=alice, kind=JobKind.VALIDATE_VCF)
    with mock.patch("genomeweb.jobs.enqueue.app.send_task", autospec=True) as send_task:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enqueue(job.pk)
        send_task.assert_not_called()  # nothing leaves before the transaction commits
        for callback in callbacks:
            callback()
    send_task.assert_called_once_with("worker.run_job", args=[job.pk], queue="gpu")


def test_the_details_read_as_words_not_python(as_user, victor, job, genome):
    Job.objects.filter(pk=job.pk).update(
        kind=JobKind.ISM,
        params={
            "model": "tiny",
            "region": ["I", 2144, 2192],
            "objective": {"gene": "YAL068C"},
            "reverse_complement": True,
            "log": True,
        },
    )
    page = as_user(victor).get(reverse("gw-job", kwargs={"code": job.code})).content.decode()
    assert "<dt>Region</dt><dd>I:2,145-2,192</dd>" in page
    assert "<dt>Objective</dt><dd>gene PAU8</dd>" in page
    assert "<dd>yes</dd>" in page and "[&#x27;I&#x27;" not in page and "{&#x27;" not in page


def test_the_page_says_the_time_left_while_running(as_user, victor, job):
    began = timezone.now() - timedelta(minutes=3)
    Job.objects.filter(pk=job.pk).update(started_at=began, progress_started_at=began)
    url = reverse("gw-job", kwargs={"code": job.code})
    fragment = as_user(victor).get(url, HTTP_HX_REQUEST="true").content.decode()
    job.refresh_from_db()
    assert "75%" in fragment and job.eta_text and job.eta_text in fragment  # 1 min left


def test_the_last_poll_shows_what_a_reload_shows(as_user, victor, job):
    finished = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED,
        started_at=finished - timedelta(seconds=95),
        finished_at=finished,
    )
    url = reverse("gw-job", kwargs={"code": job.code})
    client = as_user(victor)
    last_poll = client.get(url, HTTP_HX_REQUEST="true")
    reload = client.get(url).content.decode()
    fragment = last_poll.content.decode().strip()
    assert last_poll.status_code == 286 and fragment in reload
    assert dateformat.format(timezone.localtime(finished), "Y-m-d H:i:s") in fragment
    assert f'hx-get="{reverse("gw-bundle", kwargs={"code": job.code})}"' in fragment
    assert "100%" in fragment and "1 min 35 s" in fragment
