"""Variant sets: upload a VCF, score it, page through the effects. The pages' forms and
functions do the work, so the API validates exactly as they do."""

import uuid
from typing import Annotated
from uuid import UUID

from django.http import HttpRequest
from ninja import File, Form, Path, Query, Router, Status, UploadedFile
from pydantic import WithJsonSchema

from genomeweb.api.errors import Conflict, InvalidInput, check, name_models
from genomeweb.api.output import effect_out, job_out, page_info, variant_set_out
from genomeweb.api.schemas import (
    ConflictOut,
    EffectPage,
    EffectQuery,
    JobOut,
    ScoreIn,
    UploadIn,
    VariantSetOut,
    errors,
)
from genomeweb.catalog.models import Genome, Predictor
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.forms import ScoreForm, UploadForm
from genomeweb.variants.models import VariantSet
from genomeweb.variants.submit import scoring_params, submit_scoring, submit_variant_set
from genomeweb.variants.table import (
    PAGE_SIZE,
    empty_reason,
    job_rows,
    paginate,
)
from genomeweb.workspaces.access import READ, WRITE, get_for_member
from genomeweb.workspaces.models import Workspace

router = Router(tags=["variants"])
# An empty file part never reaches the form (Django's parser drops it): the schema says so.
VcfFile = Annotated[
    UploadedFile,
    WithJsonSchema({"type": "string", "format": "binary", "minLength": 1}),
]


def _get_variant_set(request: HttpRequest, code: UUID, need: str = READ) -> VariantSet:
    queryset = VariantSet.objects.select_related("workspace", "genome", "validation_job")
    return get_for_member(queryset, request, need=need, code=code)[0]


@router.post(
    "/workspaces/{code}/variant-sets",
    response={201: VariantSetOut, **errors(400, 401, 403, 404, 413)},
)
def upload_variant_set(
    request: HttpRequest,
    code: Path[UUID],
    vcf: File[VcfFile],
    fields: Form[UploadIn],
):
    """Upload a VCF (.vcf, .vcf.gz or bgzip) and start its validation job. Send the same
    ``submission`` UUID when retrying: the first upload is returned, not a second one."""
    workspace, _ = get_for_member(
        Workspace.objects, request, workspace_path="", need=WRITE, code=code
    )
    genome = fields.genome
    data = {
        "name": fields.name,
        "genome": Genome.objects.filter(name=genome).values_list("pk", flat=True).first(),
        "submission": fields.submission or uuid.uuid4(),
    }
    form = UploadForm(data, {"vcf": vcf})
    known = ", ".join(Genome.objects.values_list("name", flat=True))
    form.fields["genome"].error_messages["required"] = f"No genome '{genome}'; known: {known}."
    cleaned = check(form)
    variant_set = submit_variant_set(
        workspace=workspace,
        user=request.user,
        genome=cleaned["genome"],
        upload=cleaned["vcf"],
        name=cleaned["name"],
        submission=cleaned["submission"],
    )
    return Status(201, variant_set_out(request, variant_set))


@router.get("/variant-sets/{code}", response={200: VariantSetOut, **errors(400, 401, 404)})
def get_variant_set(request: HttpRequest, code: Path[UUID]):
    """A variant set: its validation job's status and what it accepted, skipped, rejected."""
    return Status(200, variant_set_out(request, _get_variant_set(request, code)))


@router.post(
    "/variant-sets/{code}/score",
    response={202: JobOut, **errors(400, 401, 403, 404), 409: ConflictOut},
)
def score_variant_set(request: HttpRequest, code: Path[UUID], payload: ScoreIn):
    """Start scoring the accepted variants (the same analysis twice is one job)."""
    variant_set = _get_variant_set(request, code, need=WRITE)
    _require_accepted_variants(variant_set)
    predictor = Predictor.objects.filter(genome=variant_set.genome, name=payload.model).first()
    form = ScoreForm(_score_form_data(payload, predictor), genome=variant_set.genome)
    name_models(form, f" for genome {variant_set.genome.name}")
    cleaned = check(form)
    params = scoring_params(variant_set, cleaned, _chosen_tracks(form, payload.tracks))
    job = submit_scoring(variant_set=variant_set, user=request.user, params=params)
    return Status(202, job_out(request, job))


def _require_accepted_variants(variant_set: VariantSet) -> None:
    job = variant_set.validation_job
    if job is None or job.status != JobStatus.SUCCEEDED:
        status = job.status if job else ""
        raise Conflict(
            f"The variant set is not validated ({status}); score it once its validation job "
            "has succeeded.",
            status=status,
        )
    if not variant_set.accepted:
        raise Conflict("No variant of this set was accepted, so there is nothing to score.")


def _score_form_data(payload: ScoreIn, predictor: Predictor | None) -> dict:
    """ScoreForm's fields as the page posts them."""
    default_rc = predictor.reverse_complement_by_default if predictor else True
    all_replicates = len(predictor.replicates) if predictor else 1
    data = {
        "model": predictor.pk if predictor else payload.model,
        "track_query": payload.track_query,
        "assay": payload.assay,
        "scorers": payload.scorers,
        "shifts": ",".join(str(shift) for shift in _shifts(payload, predictor)),
        "replicates": str(payload.replicates or all_replicates),
    }
    if default_rc if payload.reverse_complement is None else payload.reverse_complement:
        data["reverse_complement"] = "on"
    if payload.genes:
        data["genes"] = "on"
    return data


def _shifts(payload: ScoreIn, predictor: Predictor | None) -> list[int]:
    if payload.shifts is not None:
        return payload.shifts
    return predictor.default_shifts if predictor else [0]


def _chosen_tracks(form: ScoreForm, wanted: list[str]) -> list[str]:
    """The form's tracks (query and assay), narrowed to ``wanted`` if given; model order."""
    chosen = form.chosen_tracks()
    if not wanted:
        return list(chosen.values_list("identifier", flat=True))
    found = list(chosen.filter(identifier__in=wanted).values_list("identifier", flat=True))
    missing = sorted(set(wanted) - set(found))
    if missing:
        model = form.cleaned_data["model"].name
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise InvalidInput({"tracks": [f"Not tracks of {model} (matching the query): {shown}"]})
    return found


@router.get("/jobs/{code}/results", response={200: EffectPage, **errors(400, 401, 404)})
def list_effects(request: HttpRequest, code: Path[UUID], query: Query[EffectQuery]):
    """A scoring job's effects, 50 a page, filtered and sorted as in the results table."""
    job, _ = get_for_member(
        Job.objects.select_related("workspace"), request, code=code, kind=JobKind.SCORE_VARIANTS
    )
    filters, variant_set, rows = job_rows(job, _filter_query(query))
    genome = variant_set.genome if variant_set else None
    if filters.errors:
        raise InvalidInput({name: [message] for name, message in filters.errors.items()})
    page = paginate(job, variant_set, rows, filters, query.page, PAGE_SIZE)
    items = [effect_out(effect) for effect in page]
    reason = empty_reason(job, filters, genome, page.paginator.count)
    found = {"job": job.code, "status": job.status, "items": items, "empty_reason": reason}
    return Status(200, page_info(page) | found)


def _filter_query(query: EffectQuery) -> dict:
    """The filters as the page's query string carries them."""
    data = query.dict(exclude={"page", "min_abs", "min_pct"})
    for name in ("min_abs", "min_pct"):
        if getattr(query, name) is not None:
            data[name] = repr(getattr(query, name))
    return data
