from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models.functions import Abs
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from engine.io.igv_files import top_hits_bed
from genomeweb.catalog.models import Predictor
from genomeweb.interpret.alleles import allele_explanations, submit_allele_pair
from genomeweb.interpret.forms import VariantExplainForm
from genomeweb.jobs.costs import scoring_cost
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.jobs.submit import submit_once
from genomeweb.variants.forms import MarkForm, NoteForm, ScoreForm, UploadForm
from genomeweb.variants.hits import bed_hits
from genomeweb.variants.igv import UNIT, browser_config, legend, variant_panels
from genomeweb.variants.lookup import GENE_FLANK, search_workspace
from genomeweb.variants.models import Mark, Variant, VariantEffect, VariantSet
from genomeweb.variants.submit import (
    estimate_pass_cost,
    estimate_passes,
    scoring_params,
    submit_scoring,
    submit_variant_set,
)
from genomeweb.variants.table import (
    MARK_FILTERS,
    PAGE_SIZE,
    PRIMARY_RANGE,
    ROWS_CACHE_SECONDS,
    EffectFilters,
    attach_annotations,
    bar_links,
    default_tracks,
    empty_reason,
    histogram,
    job_rows,
    kept_query,
    paginate,
    sort_effects,
    sort_links,
    track_score_rows,
    tracks_job_for,
    tracks_params,
)
from genomeweb.variants.uploads import UPLOAD_TOO_LARGE
from genomeweb.workspaces.access import READ, WRITE, get_for_member
from genomeweb.workspaces.models import Membership, Workspace

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
        "scoring_jobs": Job.objects.filter(
            workspace=variant_set.workspace,
            kind=JobKind.SCORE_VARIANTS,
            params__variant_set=str(variant_set.code),
        ).select_related("created_by"),
        "artifacts": job.artifacts.all() if job else [],
    }
    if request.htmx:
        response = render(request, "variants/detail.html#report", context)
        if job is None or job.is_final:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "variants/detail.html", context)


@login_required
def score(request: HttpRequest, code) -> HttpResponse:
    """Choose a model, tracks and scorers; see the cost; launch (once per submission)."""
    variant_set, membership = _get_variant_set_for_user(request, code, need=WRITE)
    if request.method == "POST":
        data = request.POST
    else:
        data = request.GET or ScoreForm.defaults(variant_set.genome)
    form = ScoreForm(data, genome=variant_set.genome)
    estimate = _estimate(variant_set, form) if data is not None else None
    if request.method == "POST" and estimate is not None:
        params = scoring_params(variant_set, form.cleaned_data, estimate["track_ids"])
        job = submit_scoring(variant_set=variant_set, user=request.user, params=params)
        return redirect("gw-effects", code=job.code)
    context = {
        "variant_set": variant_set,
        "workspace": variant_set.workspace,
        "membership": membership,
        "form": form,
        "estimate": estimate,
    }
    if request.htmx:
        return render(request, "variants/score.html#estimate", context)
    return render(
        request,
        "variants/score.html",
        context,
        status=400 if data and not estimate and request.method == "POST" else 200,
    )


def _estimate(variant_set: VariantSet, form: ScoreForm) -> dict | None:
    if not form.is_valid():
        return None
    predictor = form.cleaned_data["model"]
    tracks = list(form.chosen_tracks().values_list("identifier", flat=True))
    params = {
        "reverse_complement": form.cleaned_data["reverse_complement"],
        "shifts": form.cleaned_data["shifts"],
        "replicates": form.cleaned_data["replicates"],
    }
    passes = estimate_passes(variant_set, predictor, params)
    cost = estimate_pass_cost(variant_set, predictor, params)
    return {
        "model": predictor.name,
        "track_ids": tracks,
        "passes": passes,
        "alleles": variant_set.accepted,
        "time": scoring_cost(predictor).estimate(cost),
    }


@login_required
def effects(request: HttpRequest, code) -> HttpResponse:
    """A scoring job's results: a sortable, filterable table and a histogram."""
    job, membership = get_for_member(
        Job.objects.select_related("workspace"), request, code=code, kind=JobKind.SCORE_VARIANTS
    )
    scorers = job.params.get("scorers", [])
    filters, variant_set, rows = job_rows(job, request.GET)
    genome = variant_set.genome if variant_set else None
    page = paginate(job, variant_set, rows, filters, request.GET.get("page"), PAGE_SIZE)
    if job.status == JobStatus.SUCCEEDED:
        attach_annotations(list(page))  # the marks column: one query for the page
    version = variant_set.annotation_version if variant_set else 0
    context = {
        "job": job,
        "membership": membership,
        "workspace": job.workspace,
        "variant_set": variant_set,
        "filters": filters,
        "mark_filters": MARK_FILTERS,
        "page": page,
        "scorers": scorers,
        "histogram": _histogram(request, job, filters, rows, version),
        "artifacts": job.artifacts.all(),
        "query": urlencode(kept_query(request.GET, drop=("page",))),
        "unranged_query": urlencode(kept_query(request.GET, drop=("page", *PRIMARY_RANGE))),
        "sort_links": sort_links(request.GET, filters),
        "empty_reason": empty_reason(job, filters, genome, page.paginator.count),
    }
    if request.htmx:
        response = render(request, "variants/effects.html#results", context)
        if job.is_final and request.headers.get("HX-Trigger") == "results":  # the poller
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "variants/effects.html", context)


TOP_HITS_BED_ROWS = 10_000


@login_required
def effects_bed(request: HttpRequest, code) -> HttpResponse:
    """The table's rows (its filters and sort) as BED, the first ``TOP_HITS_BED_ROWS``."""
    job, _ = get_for_member(
        Job.objects.select_related("workspace"),
        request,
        code=code,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.SUCCEEDED,
    )
    filters, _, rows = job_rows(job, request.GET)
    effects = sort_effects(rows.exclude(max_abs=None), filters)[:TOP_HITS_BED_ROWS]
    primary = job.params["scorers"][0]
    text = top_hits_bed(
        bed_hits(effects),
        description=f"{job.params['model']} {primary}, as the results table ranks them",
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    name = f"top-hits-{str(job.code)[:8]}.bed"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _histogram(
    request: HttpRequest, job: Job, filters: EffectFilters, rows, annotation_version: int
) -> dict | None:
    """A finished job's rows never change, so its histograms are kept (per filter set; per
    version of the marks and notes when filtered by them); each bar links to its alleles."""
    if not job.is_final:
        return None
    key = filters.cache_key(job.code, annotation_version) + ":histogram"
    drawn = cache.get_or_set(key, lambda: histogram(rows), ROWS_CACHE_SECONDS)
    return drawn and drawn | {"bars": bar_links(drawn, request.GET)}


def _get_effect_for_user(request: HttpRequest, code, effect_id: int, need: str = READ):
    job, membership = get_for_member(
        Job.objects.select_related("workspace"),
        request,
        code=code,
        kind=JobKind.SCORE_VARIANTS,
        need=need,
    )
    effect = get_object_or_404(
        VariantEffect.objects.select_related("variant"), job=job, pk=effect_id
    )
    return job, effect, membership


@login_required
def effect_detail(request: HttpRequest, code, effect_id: int) -> HttpResponse:
    """One variant: per-track and per-gene scores, and igv.js with observed vs predicted."""
    job, effect, membership = _get_effect_for_user(request, code, effect_id)
    explain_form = VariantExplainForm(scoring_job=job, effect=effect)
    context = _effect_context(request, job, effect, membership, explain_form)
    if request.htmx:
        context["is_poll"] = True  # a finished prediction hands its panels to igv.js
        response = render(request, "variants/effect.html#tracks-status", context)
        tracks_job = context["tracks_job"]
        if tracks_job is None or tracks_job.is_final:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "variants/effect.html", context)


def _effect_context(request, job: Job, effect: VariantEffect, membership, explain_form) -> dict:
    predictor = Predictor.objects.filter(name=job.params["model"]).select_related("genome").first()
    model_tracks = (
        {t.identifier: t for t in predictor.tracks.select_related("observed__genome")}
        if predictor
        else {}
    )
    chosen = request.GET.getlist("tracks") or default_tracks(effect, model_tracks)
    chosen = [t for t in chosen if t in job.params["tracks"]]
    tracks_job = tracks_job_for(job, effect, chosen)
    panels = variant_panels(chosen, tracks_job, model_tracks)
    return {
        "job": job,
        "effect": effect,
        "variant": effect.variant,
        "membership": membership,
        "workspace": job.workspace,
        "chosen": chosen,
        "all_tracks": job.params["tracks"],
        "tracks_job": tracks_job,
        "track_rows": track_score_rows(job, effect),
        "gene_rows": effect.variant.gene_effects.filter(job=job).order_by(Abs("log_sed").desc()),
        "scorers": job.params["scorers"],
        "igv": browser_config(effect, predictor.genome, panels) if predictor else None,
        "panels": panels,
        "legend": legend(),
        "unit": UNIT,
        "bin_size": predictor.bin_size if predictor else None,
        "unobserved": [t for t in chosen if t not in model_tracks or not model_tracks[t].observed],
        "explain_form": explain_form,
        "explanations": allele_explanations(job.workspace, effect.variant),
    } | _annotations_context(effect.variant, membership, back=_effect_page(request, job, effect))


def _effect_page(request: HttpRequest, job: Job, effect: VariantEffect) -> str:
    """This page's address (with its chosen tracks), also when a POST to explain rendered it."""
    if request.method == "GET":
        return request.get_full_path()
    return reverse("gw-effect", kwargs={"code": job.code, "effect_id": effect.pk})


@login_required
@require_POST
def explain(request: HttpRequest, code, effect_id: int) -> HttpResponse:
    """ISM, saliency or attention of the reference and the alternative allele, side by side."""
    job, effect, membership = _get_effect_for_user(request, code, effect_id, need=WRITE)
    form = VariantExplainForm(request.POST, scoring_job=job, effect=effect)
    if not form.is_valid():
        context = _effect_context(request, job, effect, membership, form)
        return render(request, "variants/effect.html", context, status=400)
    reference = submit_allele_pair(job.workspace, request.user, form)
    return redirect("gw-interpret-alleles", code=reference.code)


@login_required
@require_POST
def request_tracks(request: HttpRequest, code, effect_id: int) -> HttpResponse:
    """Predict ref / alt / alt − ref around this variant for the chosen tracks (once)."""
    job, effect, _ = _get_effect_for_user(request, code, effect_id, need=WRITE)
    chosen = [t for t in request.POST.getlist("tracks") if t in job.params["tracks"]][:8]
    if chosen:
        submit_once(
            workspace=job.workspace,
            user=request.user,
            kind=JobKind.VARIANT_TRACKS,
            params=tracks_params(job, effect, chosen),
            key_prefix="tracks",
        )
    url = reverse("gw-effect", kwargs={"code": job.code, "effect_id": effect.pk})
    return redirect(f"{url}?{urlencode([('tracks', t) for t in chosen])}")


# --- the workspace's variant search -----------------------------------------------------------


@login_required
def search(request: HttpRequest, code) -> HttpResponse:
    """Find variants in all of a workspace's sets by ID, rsID, allele, position, region, gene or
    contig; each links to its permalink."""
    workspace, membership = get_for_member(Workspace.objects, request, workspace_path="", code=code)
    text = request.GET.get("q", "")
    context = {
        "workspace": workspace,
        "membership": membership,
        "q": " ".join(text.split()),
        "found": search_workspace(workspace, text) if text.strip() else None,
        "gene_flank": f"{GENE_FLANK:,}",
    }
    if request.htmx:
        return render(request, "variants/search.html#hits", context)
    return render(request, "variants/search.html", context)


# --- a variant's permalink, marks and notes ---------------------------------------------------


def _get_variant_for_user(request: HttpRequest, code, need: str = READ):
    queryset = Variant.objects.select_related("variant_set__workspace")
    return get_for_member(
        queryset, request, workspace_path="variant_set__workspace", need=need, code=code
    )


@login_required
def variant_detail(request: HttpRequest, code) -> HttpResponse:
    """A variant's permalink: where it came from, every job that scored it, marks and notes."""
    variant, membership = _get_variant_for_user(request, code)
    return _render_variant(request, variant, membership)


def _render_variant(
    request: HttpRequest,
    variant: Variant,
    membership: Membership,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    workspace = variant.variant_set.workspace
    permalink = reverse("gw-variant", kwargs={"code": variant.code})
    context = {
        "variant": variant,
        "variant_set": variant.variant_set,
        "workspace": workspace,
        "membership": membership,
        "permalink": request.build_absolute_uri(permalink),
        "effects": variant.effects.filter(
            job__workspace=workspace, job__kind=JobKind.SCORE_VARIANTS
        )
        .select_related("job__created_by")
        .order_by("-job__created"),
        "explanations": allele_explanations(workspace, variant),
    } | _annotations_context(variant, membership, back=permalink, note_form=note_form)
    return render(request, "variants/variant.html", context, status=status)


def _annotations_context(
    variant: Variant, membership: Membership, *, back: str, note_form: NoteForm | None = None
) -> dict:
    """What the marks-and-notes fragment shows; ``back`` is where its forms return without JS."""
    chosen = {m.mark: m for m in variant.marks.select_related("marked_by")}
    notes = list(variant.notes.select_related("author"))
    for note in notes:
        note.is_deletable = note.may_be_deleted_by(membership)
    marks = [{"value": v, "label": label, "set": chosen.get(v)} for v, label in Mark.choices]
    return {
        "variant": variant,
        "membership": membership,
        "marks": marks,
        "set_marks": [m for m in marks if m["set"]],
        "notes": notes,
        "note_form": note_form or NoteForm(),
        "back": back,
    }


def _back_to(request: HttpRequest, variant: Variant) -> str:
    """The page a mark or note form was sent from (this site only), else the permalink."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("gw-variant", kwargs={"code": variant.code})


def _annotations_response(
    request: HttpRequest, variant: Variant, membership: Membership
) -> HttpResponse:
    back = _back_to(request, variant)
    if request.htmx:
        context = _annotations_context(variant, membership, back=back)
        return render(request, "variants/variant.html#annotations", context)
    return redirect(f"{back}#annotations")


@login_required
@require_POST
def mark(request: HttpRequest, code) -> HttpResponse:
    variant, membership = _get_variant_for_user(request, code, need=WRITE)
    form = MarkForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown mark.")
    variant.set_mark(form.cleaned_data["mark"], user=request.user, on=form.cleaned_data["on"])
    return _annotations_response(request, variant, membership)


@login_required
@require_POST
def add_note(request: HttpRequest, code) -> HttpResponse:
    variant, membership = _get_variant_for_user(request, code, need=WRITE)
    form = NoteForm(request.POST)
    if form.is_valid():
        variant.add_note(form.cleaned_data["text"], author=request.user)
        return _annotations_response(request, variant, membership)
    if request.htmx:  # htmx swaps only 2xx answers: the fragment comes back with the error
        context = _annotations_context(
            variant, membership, back=_back_to(request, variant), note_form=form
        )
        return render(request, "variants/variant.html#annotations", context)
    return _render_variant(request, variant, membership, note_form=form, status=400)


@login_required
@require_POST
def delete_note(request: HttpRequest, code, note_code) -> HttpResponse:
    variant, membership = _get_variant_for_user(request, code, need=WRITE)
    note = get_object_or_404(variant.notes, code=note_code)
    if not note.may_be_deleted_by(membership):
        raise PermissionDenied("only its author or an owner of the workspace may delete a note")
    variant.remove_note(note)
    return _annotations_response(request, variant, membership)
