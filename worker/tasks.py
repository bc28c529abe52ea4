"""Celery tasks: claim a job, run its handler (``worker/jobs/``, the worker modules that read
and write Django models), record how it ended.

A message carries only a job id. Everything else (the kind, the parameters, who asked) is read
from the Job row, which the worker claims atomically before doing anything.
"""

import logging
from collections.abc import Callable

from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from engine.errors import InputError
from engine.pipeline.common import Progress
from genomeweb.celery import app
from genomeweb.jobs.models import Claim, Job, JobKind
from genomeweb.jobs.sweep import sweep_jobs
from genomeweb.lib.upload_tmp import remove_stale_upload_temp_files
from worker.errors import JobCancelled
from worker.heartbeat import Heartbeat
from worker.jobs.bundles import build_bundle
from worker.jobs.designs import predict_design_job
from worker.jobs.interpretation import run_attention_job, run_ism_job, run_saliency_job
from worker.jobs.scoring import predict_variant_tracks, score_variant_part, score_variant_set
from worker.jobs.vcf import validate_variant_set

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)


@app.task(
    name="worker.run_job",
    bind=True,
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
        job.fail("The member who submitted this job no longer has the access it needs here.")
        return
    try:
        with Heartbeat(job) as heartbeat:
            HANDLERS[job.kind](job, heartbeat.progress)
    except JobCancelled:
        job.mark_cancelled()
    except InputError as error:
        job.fail(str(error))
    except SoftTimeLimitExceeded:
        job.fail(f"The job ran longer than the limit of {settings.JOB_SOFT_TIME_LIMIT} seconds.")
    except DATABASE_ERRORS:
        raise  # retried by Celery; the claim resumes the job once its heartbeat is stale
    except Exception:
        logger.exception("job %s (%s) failed", job.code, job.kind)
        job.fail(f"An internal error stopped the job. Reference for the administrator: {job.code}")
        raise


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
