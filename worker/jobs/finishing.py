"""The one place a job succeeds: its summary and its provenance, on the row and in its folder."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from engine.models.ensemble import Ensemble
from genomeweb.catalog.models import Genome, Predictor
from genomeweb.jobs.models import PROVENANCE_FILE, Job, JobKind
from genomeweb.results.storage import job_dir, record_artifact
from worker import provenance
from worker.jobs.inputs import job_inputs


def finish_job(job: Job, summary: dict, genome: Genome, used: dict | None = None) -> bool:
    """The one place a job succeeds: its summary and its provenance, on the row and as
    provenance.json in its folder, inside the caller's transaction.

    Args:
        used: the model and device the job ran (``model_use``), or None when it ran no model.

    Returns:
        False when this attempt no longer owns the job: the caller then rolls back.
    """
    finished = timezone.now()
    record = provenance.assemble(
        app=provenance.app_section(settings.BASE_DIR, settings.GIT_COMMIT),
        job=_job_record(job, finished),
        genome=provenance.genome_section(
            name=genome.name,
            fasta_sha256=genome.fasta_sha256,
            annotation_sha256=genome.annotation_sha256,
        ),
        used=used,
        inputs=job_inputs(job),
    )
    if not job.finish(summary, provenance=record, finished_at=finished):
        return False
    # Written only by the attempt that finished (a few kB, so inside the transaction is fine):
    # a late attempt that lost the job must not replace the file the row describes.
    path = provenance.write(record, job_dir(job), PROVENANCE_FILE)
    record_artifact(
        job,
        path,
        content_type="application/json",
        description="Provenance: code, model and weights, genome, parameters, device, packages",
    )
    return True


def _job_record(job: Job, finished: datetime) -> dict:
    joined = job.parts.order_by("params__part") if job.kind == JobKind.SCORE_VARIANTS else []
    return provenance.job_section(
        kind=job.kind,
        code=str(job.code),
        parent=str(job.parent.code) if job.parent_id else None,
        parts=[str(part.code) for part in joined],
        params=job.params,
        created=job.created,
        started=job.started_at,
        finished=finished,
        worker=job.worker,
        attempts=job.attempts,
    )


def model_use(predictor: Predictor, model: Ensemble, tracks: list[int]) -> dict:
    return provenance.model_use(
        name=predictor.name,
        architecture=predictor.architecture,
        registered=predictor.replicates,
        model=model,
        tracks=tracks,
    )
