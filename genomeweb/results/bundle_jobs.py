"""Asking for a job's bundle, from a page or the API: which jobs have one, the form, the
bundle job (submitted once per job and report size), the newest one."""

from django import forms

from genomeweb.jobs.models import Job, JobKind
from genomeweb.jobs.submit import submit_once

# A bundle of a bundle, or of a part of a job, would only repeat what its parent holds.
BUNDLED_KINDS = [
    k for k in JobKind.values if k not in (JobKind.BUNDLE, JobKind.SCORE_VARIANTS_PART)
]
# Kinds whose bundle carries an offline report (worker/jobs/bundles.py makes it).
REPORTED_KINDS = (JobKind.SCORE_VARIANTS, JobKind.DESIGN_PREDICT)


class BundleForm(forms.Form):
    report_top = forms.IntegerField(
        min_value=1, max_value=500, initial=50, label="Variants in the report"
    )


def submit_bundle(target: Job, user, report_top: int) -> Job:
    """One bundle job per (job, report size); a failed one may be asked for again."""
    return submit_once(
        workspace=target.workspace,
        user=user,
        kind=JobKind.BUNDLE,
        params={"job": str(target.code), "report_top": report_top},
        key_prefix="bundle",
    )


def latest_bundle(target: Job) -> Job | None:
    """The newest bundle job of ``target`` (a failed one shows its error and may be retried)."""
    bundles = Job.objects.filter(
        workspace=target.workspace, kind=JobKind.BUNDLE, params__job=str(target.code)
    )
    return bundles.order_by("-created").first()
