from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from genomeweb.jobs.display import describe_params, job_names
from genomeweb.jobs.models import Job
from genomeweb.workspaces.access import READ, WRITE, get_for_member


def _get_job_for_user(request: HttpRequest, code, need: str = READ):
    return get_for_member(Job.objects.select_related("workspace"), request, need=need, code=code)


@login_required
def detail(request: HttpRequest, code) -> HttpResponse:
    job, membership = _get_job_for_user(request, code)
    context = {
        "job": job,
        "membership": membership,
        "params": describe_params(job.params, job_names([job])),
    }
    if request.htmx:
        response = render(request, "jobs/detail.html#status", context)
        if job.is_final:
            # htmx 2 stops polling on 286; the fragment also drops its hx-trigger (htmx 4).
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "jobs/detail.html", context)


@login_required
@require_POST
def cancel(request: HttpRequest, code) -> HttpResponse:
    job, _ = _get_job_for_user(request, code, WRITE)
    job.request_cancel()
    return redirect("gw-job", code=job.code)
