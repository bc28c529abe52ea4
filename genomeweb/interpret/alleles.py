"""A variant's reference and alternative allele explained side by side: two interpretation
jobs with the same model, locus and objective. The alternative's job names its reference job
(``params["pair"]``), so the pair is found from either page."""

from genomeweb.interpret.forms import METHOD_KINDS, VariantExplainForm
from genomeweb.jobs.models import Job
from genomeweb.jobs.submit import submit_once

EARLIER_PAIRS = 10


def submit_allele_pair(workspace, user, form: VariantExplainForm) -> Job:
    """Both jobs (once each, see ``submit_once``); returns the reference allele's job."""
    kind = METHOD_KINDS[form.cleaned_data["method"]]
    reference = submit_once(
        workspace=workspace, user=user, kind=kind, params=form.job_params("ref"), key_prefix=kind
    )
    submit_once(
        workspace=workspace,
        user=user,
        kind=kind,
        params=form.job_params("alt") | {"pair": str(reference.code)},
        key_prefix=kind,
    )
    return reference


def alternative_of(reference: Job) -> Job | None:
    return (
        Job.objects.filter(
            workspace=reference.workspace, kind=reference.kind, params__pair=str(reference.code)
        )
        .order_by("-created")
        .first()
    )


def allele_explanations(workspace, variant) -> list[Job]:
    """The reference-side jobs of this variant's earlier side-by-side explanations."""
    return list(
        Job.objects.filter(
            workspace=workspace,
            kind__in=list(METHOD_KINDS.values()),
            params__allele__variant=variant.pk,
            params__allele__side="ref",
        ).order_by("-created")[:EARLIER_PAIRS]
    )
