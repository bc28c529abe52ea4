"""Send jobs to the workers: by task name, after commit, on the ``gpu`` queue.

Sending by name keeps torch and the worker code out of the web process. Sending after commit
means a worker never reads a job row that is not committed yet.
"""

import logging
from functools import partial

from django.db import transaction

from genomeweb.celery import app

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "worker.run_job"
JOB_QUEUE = "gpu"


def enqueue(job_id: int) -> None:
    transaction.on_commit(partial(send_job, job_id))


def send_job(job_id: int) -> None:
    """Publish the job's id. A broker outage is not fatal: the sweeper sends it again later."""
    try:
        app.send_task(RUN_JOB_TASK, args=[job_id], queue=JOB_QUEUE)
    except Exception:  # kombu raises many types for an unreachable broker
        logger.exception("could not send job %s to the broker; the sweeper will retry", job_id)
