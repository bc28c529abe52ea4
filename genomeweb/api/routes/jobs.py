"""Jobs of any kind: poll, cancel, bundle. Result files are downloaded from their URLs."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Path, Router, Status

from genomeweb.api.errors import Conflict, check
from genomeweb.api.output import artifact_out, job_out
from genomeweb.api.schemas import BundleIn, BundleOut, ConflictOut, JobOut, errors
from genomeweb.jobs.models import Job, JobStatus
from genomeweb.results.bundle_jobs import BUNDLED_KINDS, BundleForm, latest_bundle, submit_bundle
from genomeweb.results.contents import estimated_size
from genomeweb.workspaces.access import READ, WRITE, get_for_member

router = Router(tags=["jobs"])


def _get_job(request: HttpRequest, code: UUID, need: str = READ) -> Job:
    return get_for_member(Job.objects.select_related("workspace"), request, need=need, code=code)[0]


@router.get("/jobs/{code}", response={200: JobOut, **errors(400, 401, 404)})
def get_job(request: HttpRequest, code: Path[UUID]):
    """Status and progress; once it succeeded, its summary and result files."""
    return Status(200, job_out(request, _get_job(request, code)))


@router.post("/jobs/{code}/cancel", response={200: JobOut, **errors(400, 401, 403, 404)})
def cancel_job(request: HttpRequest, code: Path[UUID]):
    """Cancel a queued job at once, or ask its worker to stop (a final job stays as it is)."""
    job = _get_job(request, code, need=WRITE)
    job.request_cancel()
    return Status(200, job_out(request, job))


def _bundle_target(request: HttpRequest, code: UUID) -> Job:
    """Any member may bundle: a bundle only packages results."""
    job = _get_job(request, code)
    if job.kind not in BUNDLED_KINDS:
        raise Conflict(f"A {job.get_kind_display().lower()} job has no bundle of its own.")
    if job.status != JobStatus.SUCCEEDED:
        raise Conflict(
            f"The job is {job.status}; a bundle packages the results of a job that succeeded.",
            status=job.status,
        )
    return job


def _bundle_out(request: HttpRequest, target: Job) -> dict:
    bundle = latest_bundle(target)
    done = bundle is not None and bundle.status == JobStatus.SUCCEEDED
    artifact = bundle.artifacts.first() if done else None
    return {
        "job": target.code,
        "estimated_bytes": estimated_size(target),
        "bundle": job_out(request, bundle) if bundle else None,
        "download": artifact_out(request, artifact) if artifact else None,
    }


@router.get(
    "/jobs/{code}/bundle", response={200: BundleOut, **errors(400, 401, 404), 409: ConflictOut}
)
def get_bundle(request: HttpRequest, code: Path[UUID]):
    """The job's newest bundle: its build job and, once built, the zip to download."""
    return Status(200, _bundle_out(request, _bundle_target(request, code)))


@router.post(
    "/jobs/{code}/bundle", response={202: BundleOut, **errors(400, 401, 404), 409: ConflictOut}
)
def build_bundle(request: HttpRequest, code: Path[UUID], payload: BundleIn):
    """Build the job's bundle (once per report size): outputs, inputs, an offline report."""
    target = _bundle_target(request, code)
    cleaned = check(BundleForm({"report_top": payload.report_top}))
    submit_bundle(target, request.user, cleaned["report_top"])
    return Status(202, _bundle_out(request, target))
