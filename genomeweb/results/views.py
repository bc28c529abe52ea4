from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse

from genomeweb.results.models import Artifact
from genomeweb.results.ranges import ByteRange, UnsatisfiableRange, parse_range
from genomeweb.workspaces.access import get_for_member

CHUNK = 256 * 1024


def _get_artifact_for_user(request: HttpRequest, code):
    queryset = Artifact.objects.select_related("job__workspace")
    return get_for_member(queryset, request, workspace_path="job__workspace", code=code)


@login_required
def download(request: HttpRequest, code, filename: str = "") -> HttpResponse:
    """Send a result file after the membership check; byte ranges supported.

    Behind nginx (GW_X_ACCEL_PREFIX set) the file itself is sent by nginx through an internal
    location, which also handles ranges; Django only decides who may read it.
    """
    artifact, _ = _get_artifact_for_user(request, code)
    if filename and filename != artifact.name:  # the name is only there for igv.js and users
        raise Http404("not found")
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
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if wanted is None:
        return FileResponse(path.open("rb"), content_type=content_type)
    response = StreamingHttpResponse(
        _read_slice(path, wanted), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    response["Content-Length"] = str(wanted.length)
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
