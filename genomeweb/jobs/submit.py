"""Starting a job from a member's request, once."""

from django.db import transaction

from genomeweb.jobs.enqueue import enqueue
from genomeweb.jobs.models import Job, JobStatus, idempotency_key


def submit_once(*, workspace, user, kind: str, params: dict, key_prefix: str) -> Job:
    """One job per distinct request: the idempotency key is a digest of the parameters, so a
    double click, a retried POST or the same form sent again finds the first job. A failed or
    cancelled job gives up its key, so the same request can be run again. Enqueued after
    commit, only when new."""
    key = idempotency_key(key_prefix, params)
    with transaction.atomic():
        Job.objects.filter(
            workspace=workspace,
            idempotency_key=key,
            status__in=[JobStatus.FAILED, JobStatus.CANCELLED],
        ).update(idempotency_key="")
        job, created = Job.submit(
            workspace=workspace, user=user, kind=kind, params=params, idempotency_key=key
        )
        if created:
            enqueue(job.pk)
    return job
