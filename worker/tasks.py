"""Celery tasks: claim a job, run its handler (``worker/jobs/``, the worker modules that read
and write Django models), record how it ended.

A message carries only a job id. Everything else (the kind, the parameters, who asked) is read
from the Job row, which the worker claims atomically before doing anything.
"""

import logging
import time
from collections.abc import Callable

from billiard.exceptions import WorkerLostError
from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from celery.worker.request import Request
from django.conf import settings
from django.db import connection

from engine.errors import InputError
from engine.pipeline.common import Progress
from genomeweb.celery import app
from genomeweb.jobs.models import Claim, FailureReason, Job, JobKind
from genomeweb.jobs.sweep import sweep_jobs
from genomeweb.lib.upload_tmp import remove_stale_upload_temp_files
from worker.errors import DATABASE_ERRORS, JobCancelled
from worker.failures import classify, killed_for_memory, oom_kills
from worker.heartbeat import Heartbeat
from worker.jobs.bundles import build_bundle
from worker.jobs.designs import predict_design_job
from worker.jobs.interpretation import run_attention_job, run_ism_job, run_saliency_job
from worker.jobs.scoring import predict_variant_tracks, score_variant_part, score_variant_set
from worker.jobs.vcf import validate_variant_set

logger = logging.getLogger(__name__)

# A database outage mid-job is waited out in the worker, which keeps the job's attempt, up to
# this long (checks back off from 1 s to 30 s); after that the task is retried by Celery.
DATABASE_WAIT_SECONDS = 600
DATABASE_MAX_CHECK_SECONDS = 30.0
# Outages one attempt sits out: an error that comes back each time the database answers is
# not an outage.
DATABASE_REDOS = 3


class JobRequest(Request):
    """The worker's parent process's view of one run_job message. When the pool process that
    ran it dies (killed, segfault, out of memory), the parent records that on the job row
    before the message is requeued, so the next claim need not wait for the heartbeat to go
    stale and the final message can say how it died."""

    def on_accepted(self, pid, time_accepted):
        self.oom_kills_before = oom_kills()
        super().on_accepted(pid, time_accepted)

    def on_failure(self, exc_info, send_failed_event=True, return_ok=False):
        error = exc_info.exception
        error = getattr(error, "exc", error)  # ExceptionWithTraceback wraps it
        if isinstance(error, WorkerLostError):
            self._record_lost_worker(str(error))
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)

    def _record_lost_worker(self, how: str) -> None:
        how = how.removeprefix("Worker exited prematurely: ").split(" Job:")[0].rstrip(".")
        memory = killed_for_memory(how, getattr(self, "oom_kills_before", -1))
        try:
            Job.worker_lost(
                int(self.args[0]),
                worker=self.hostname,
                how=f"its process died: {how}",
                memory=memory,
            )
        except DATABASE_ERRORS:  # the heartbeat will go stale: the slow path still works
            logger.warning("could not record the lost worker of %s", self.args, exc_info=True)


@app.task(
    name="worker.run_job",
    bind=True,
    Request=JobRequest,
    autoretry_for=DATABASE_ERRORS,
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=20,
)
def run_job(self, job_id: int) -> None:
    claim = Job.claim(job_id, worker=self.request.hostname or "", task_id=self.request.id or "")
    if claim == Claim.BUSY:
        # Another worker holds the job and still beats (e.g. this message was redelivered after
        # a kill, and the heartbeat has not gone stale yet): look again when it would be stale.
        # After max_retries the message is dropped; the sweeper still watches the row.
        try:
            raise self.retry(countdown=settings.JOB_STALE_SECONDS)
        except MaxRetriesExceededError:
            logger.info("job %s is still held by a live worker; dropping this message", job_id)
            return
    if claim == Claim.CLAIMED:
        execute(Job.objects.get(pk=job_id))


@app.task(name="worker.sweep_jobs")
def sweep() -> None:
    sweep_jobs()
    remove_stale_upload_temp_files()


def execute(job: Job) -> None:
    """Run a claimed job and record how it ended. User errors fail the job with their message."""
    if not job.submitter_may_run():
        job.fail(
            "The member who submitted this job no longer has the access it needs here.",
            reason=FailureReason.ACCESS,
        )
        return
    try:
        with Heartbeat(job) as heartbeat:
            run_through_outages(job, heartbeat.progress)
    except JobCancelled:
        job.mark_cancelled()
    except InputError as error:
        job.fail(str(error), reason=FailureReason.INPUT)
    except SoftTimeLimitExceeded:
        job.fail(
            f"The job ran longer than the limit of {settings.JOB_SOFT_TIME_LIMIT} seconds.",
            reason=FailureReason.TIME_LIMIT,
        )
    except DATABASE_ERRORS:
        raise  # retried by Celery; the claim resumes the job once its heartbeat is stale
    except Exception as error:
        fail_unexpected(job, error)
        raise


def run_through_outages(job: Job, progress: Progress) -> None:
    """Run the job's handler. When the database goes away mid-run, wait for it and run the
    handler again in this attempt: its stores are transactions, so nothing half-written stays,
    and the heartbeat thread has kept the job ours. (Celery's retry would count an attempt and
    start over only once the heartbeat went stale.)"""
    for redo in range(DATABASE_REDOS + 1):
        try:
            HANDLERS[job.kind](job, progress)
            return
        except DATABASE_ERRORS:
            if redo == DATABASE_REDOS:
                raise
            logger.warning("job %s lost the database; waiting for it", job.code, exc_info=True)
        wait_for_database()
        if not job.still_owned():
            logger.info("job %s finished or was taken over during the outage", job.code)
            return


def wait_for_database() -> None:
    """Return once the database answers again; raise its error after DATABASE_WAIT_SECONDS."""
    deadline = time.monotonic() + DATABASE_WAIT_SECONDS
    pause = 1.0
    while True:
        connection.close()  # the broken one; Django opens a fresh one below
        try:
            connection.ensure_connection()
            return
        except DATABASE_ERRORS:
            if time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, DATABASE_MAX_CHECK_SECONDS)


def fail_unexpected(job: Job, error: Exception) -> None:
    """A condition of the machine (storage, memory) fails the job in words the user can act
    on; anything else is a bug, logged with its traceback for the administrator."""
    failure = classify(error)
    if failure is None:
        logger.exception("job %s (%s) failed", job.code, job.kind)
        job.fail(
            f"An internal error stopped the job. Reference for the administrator: {job.code}",
            reason=FailureReason.INTERNAL,
            detail=f"{type(error).__name__}: {error}",
        )
        return
    logger.error("job %s (%s) failed: %s (%s)", job.code, job.kind, failure.reason, failure.detail)
    job.fail(failure.message, reason=failure.reason, detail=failure.detail)


HANDLERS: dict[str, Callable[[Job, Progress], None]] = {
    JobKind.VALIDATE_VCF: validate_variant_set,
    JobKind.SCORE_VARIANTS: score_variant_set,
    JobKind.VARIANT_TRACKS: predict_variant_tracks,
    JobKind.SCORE_VARIANTS_PART: score_variant_part,
    JobKind.ISM: run_ism_job,
    JobKind.SALIENCY: run_saliency_job,
    JobKind.ATTENTION: run_attention_job,
    JobKind.DESIGN_PREDICT: predict_design_job,
    JobKind.BUNDLE: build_bundle,
}
