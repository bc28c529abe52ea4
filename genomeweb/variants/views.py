from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseStopPolling

from genomeweb.variants.forms import UploadForm
from genomeweb.variants.models import VariantSet
from genomeweb.variants.submit import submit_variant_set
from genomeweb.variants.uploads import UPLOAD_TOO_LARGE
from genomeweb.workspaces.access import READ, WRITE, get_for_member
from genomeweb.workspaces.models import Workspace

PREVIEW_ROWS = 50


def _get_variant_set_for_user(request: HttpRequest, code, need: str = READ):
    queryset = VariantSet.objects.select_related("workspace", "genome", "validation_job")
    return get_for_member(queryset, request, need=need, code=code)


@login_required
def upload(request: HttpRequest, code) -> HttpResponse:
    workspace, membership = get_for_member(
        Workspace.objects, request, workspace_path="", need=WRITE, code=code
    )
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if getattr(request, UPLOAD_TOO_LARGE, False):
            form = UploadForm(request.POST)
            form.is_valid()
            limit_mb = settings.MAX_UPLOAD_BYTES // 2**20
            form.add_error(
                "vcf",
                f"The file is larger than the {limit_mb} MB upload limit. "
                "Compress it with bgzip, or split it by chromosome.",
            )
        elif form.is_valid():
            variant_set = submit_variant_set(
                workspace=workspace,
                user=request.user,
                genome=form.cleaned_data["genome"],
                upload=form.cleaned_data["vcf"],
                name=form.cleaned_data["name"],
                submission=form.cleaned_data["submission"],
            )
            return redirect("gw-variantset", code=variant_set.code)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "variants/upload.html",
        {
            "workspace": workspace,
            "membership": membership,
            "form": form,
            "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        },
        status=status,
    )


@login_required
def detail(request: HttpRequest, code) -> HttpResponse:
    variant_set, membership = _get_variant_set_for_user(request, code)
    job = variant_set.validation_job
    context = {
        "variant_set": variant_set,
        "membership": membership,
        "job": job,
        "workspace": variant_set.workspace,
        "preview": variant_set.variants.all()[:PREVIEW_ROWS],
        "artifacts": job.artifacts.all() if job else [],
    }
    if request.htmx:
        response = render(request, "variants/detail.html#report", context)
        if job is None or job.is_final:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "variants/detail.html", context)
