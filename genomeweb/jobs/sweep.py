"""The sweeper: jobs whose message or worker was lost are sent again or failed.

The Job row is the truth, so anything the broker forgot (a Redis restart without persistence,
a worker killed with SIGKILL, a message dropped by the filesystem transport) can be rebuilt from
the rows: queued jobs nobody took are sent again; running jobs whose heartbeat stopped are put
back in the queue, or failed once they used up their attempts.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from genomeweb.jobs.enqueue import send_job
from genomeweb.jobs.models import STOPPED_BEATING, Job

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    resent: int = 0
    requeued: int = 0
    failed: int = 0


def sweep_jobs() -> SweepReport:
    now = timezone.now()
    report = SweepReport()
    for job in Job.objects.stale_queued(now):
        Job.objects.filter(pk=job.pk).update(queued_at=now)
        send_job(job.pk)
        report.resent += 1
    for job in Job.objects.stale_running(now):
        _recover_running(job, report)
    if report.resent or report.requeued or report.failed:
        logger.info("sweep: %s", report)
    return report


def _recover_running(job: Job, report: SweepReport) -> None:
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        job.note_crash(STOPPED_BEATING)
        if job.fail_after_crashes():
            report.failed += 1
    elif job.requeue():
        send_job(job.pk)
        report.requeued += 1
