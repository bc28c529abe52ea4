from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseStopPolling

from genomeweb.jobs.models import Job, JobStatus
from genomeweb.results.bundle_jobs import (
    BUNDLED_KINDS,
    REPORTED_KINDS,
    BundleForm,
    latest_bundle,
    submit_bundle,
)
from genomeweb.results.contents import estimated_size
from genomeweb.results.models import Artifact
from genomeweb.results.ranges import ByteRange, UnsatisfiableRange, parse_range
from genomeweb.results.storage import open_stored, results_are_local
from genomeweb.workspaces.access import get_for_member

CHUNK = 256 * 1024


def _get_artifact_for_user(request: HttpRequest, code):
    queryset = Artifact.objects.select_related("job__workspace")
    return get_for_member(queryset, request, workspace_path="job__workspace", code=code)


@login_required
def download(request: HttpRequest, code, filename: str = "") -> HttpResponse:
    """Send a result file after the membership check; byte ranges supported.

    Behind nginx (GW_X_ACCEL_PREFIX set) the file itself is sent by nginx through an internal
    location, which also handles ranges; Django only decides who may read it. On object storage
    the file is streamed from there (``_stored_file_response``).
    """
    artifact, _ = _get_artifact_for_user(request, code)
    if filename and filename != artifact.name:  # the name is only there for igv.js and users
        raise Http404("not found")
    if not results_are_local():
        response = _stored_file_response(request, artifact)
        response["Content-Disposition"] = f'attachment; filename="{artifact.name}"'
        response["Accept-Ranges"] = "bytes"
        return response
    path = artifact.path
    if not path.is_file():
        raise Http404("the file is no longer on disk")
    if settings.X_ACCEL_PREFIX:
        response = HttpResponse(content_type=artifact.content_type)
        response["X-Accel-Redirect"] = f"{settings.X_ACCEL_PREFIX}{artifact.relative_path}"
    else:
        response = ranged_file_response(request, path, artifact.content_type)
    response["Content-Disposition"] = f'attachment; filename="{artifact.name}"'
    response["Accept-Ranges"] = "bytes"
    return response


def ranged_file_response(request: HttpRequest, path, content_type: str) -> HttpResponse:
    """The file, or the byte range the request asks for (206), or 416 past its end."""
    size = path.stat().st_size
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except UnsatisfiableRange:
        return _not_satisfiable(size)
    if wanted is None:
        return FileResponse(path.open("rb"), content_type=content_type)
    response = StreamingHttpResponse(
        _read_slice(path, wanted), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    response["Content-Length"] = str(wanted.length)
    return response


def _not_satisfiable(size: int) -> HttpResponse:
    """416, with the size the client needs to ask again."""
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response


def _stored_file_response(request: HttpRequest, artifact: Artifact) -> HttpResponse:
    """The artifact streamed from object storage, a Range answered by a ranged GET there.

    Streamed through the web rather than redirected to a presigned URL: igv.js then reads byte
    ranges from the app's own origin (no CORS rules on the bucket), and the store need not be
    reachable from browsers at all (in docker-compose, MinIO is on the internal network only).
    Its size is the recorded one: files are never changed once recorded, only replaced along
    with their row.
    """
    size = artifact.size
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except UnsatisfiableRange:
        return _not_satisfiable(size)
    first, last = (wanted.start, wanted.end) if wanted else (None, None)
    try:
        chunks, length = open_stored(artifact.relative_path, first, last)
    except FileNotFoundError:
        raise Http404("the file is no longer in storage") from None
    status = 206 if wanted else 200
    response = StreamingHttpResponse(chunks, status=status, content_type=artifact.content_type)
    if wanted:
        response["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    response["Content-Length"] = str(length)
    return response


def _read_slice(path, wanted: ByteRange) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(wanted.start)
        remaining = wanted.length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


@login_required
def bundle(request: HttpRequest, code) -> HttpResponse:
    """A finished job's bundle: its size before anything is built, a button that builds it
    (once: any member may, it only packages results), then the download."""
    target, _ = get_for_member(
        Job.objects.select_related("workspace"),
        request,
        code=code,
        status=JobStatus.SUCCEEDED,
        kind__in=BUNDLED_KINDS,
    )
    form = BundleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        submit_bundle(target, request.user, form.cleaned_data["report_top"])
        if not request.htmx:  # a plain form post: back to the job
            return redirect("gw-job", code=target.code)
    building = latest_bundle(target)
    context = {
        "target": target,
        "building": building,
        "download": building.artifacts.first() if _succeeded(building) else None,
        "estimate": estimated_size(target),
        "form": form,
        "has_report": target.kind in REPORTED_KINDS,
    }
    response = render(request, "results/bundle.html", context)
    if building is None or building.is_final:
        response.status_code = HttpResponseStopPolling.status_code if request.htmx else 200
    return response


def _succeeded(job: Job | None) -> bool:
    return job is not None and job.status == JobStatus.SUCCEEDED
