from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from engine.designs.edits import Edit, edits_for_paste
from genomeweb.catalog.models import Predictor
from genomeweb.designs import display, prediction
from genomeweb.designs.forms import EditForm, NewDesignForm, PasteForm, VersionForm, matching_genes
from genomeweb.designs.models import Changes, Design
from genomeweb.designs.motifs import search_motifs
from genomeweb.jobs.models import JobStatus
from genomeweb.workspaces.access import READ, WRITE, get_for_member
from genomeweb.workspaces.models import Membership, Workspace

FASTA_LINE = 60
PREFILLED_FIELDS = ("kind", "position", "end_position", "bases", "label")


def _get_design_for_user(request: HttpRequest, code, need: str = READ):
    queryset = Design.objects.select_related("workspace", "genome", "predictor", "updated_by")
    return get_for_member(queryset, request, need=need, code=code)


@login_required
def new(request: HttpRequest, code) -> HttpResponse:
    """Choose a model, then a locus by gene (search as you type) or by coordinates."""
    workspace, membership = get_for_member(
        Workspace.objects, request, workspace_path="", need=WRITE, code=code
    )
    if request.method == "POST":
        form = NewDesignForm(request.POST)
        if form.is_valid():
            design = form.save(workspace, request.user)
            return redirect("gw-design", code=design.code)
    else:
        form = NewDesignForm(initial=request.GET.dict() or {"model": Predictor.objects.first()})
    source = request.POST if request.method == "POST" else request.GET
    context = {
        "workspace": workspace,
        "membership": membership,
        "form": form,
        "genes": _genes_for(source),
        "gene_query": source.get("gene", "").strip(),
        "chosen_gene": source.get("gene_id", ""),
    }
    if request.htmx and request.method == "GET":
        return render(request, "designs/new.html#genes", context)
    return render(request, "designs/new.html", context, status=400 if form.is_bound else 200)


def _genes_for(source) -> list:
    model = source.get("model", "")
    predictor = Predictor.objects.filter(pk=model).first() if model.isdigit() else None
    return list(matching_genes(predictor, source.get("gene", "")))


@login_required
def detail(request: HttpRequest, code) -> HttpResponse:
    """The design: its edits, a form for the next one, the diff, the coordinate map, versions."""
    design, membership = _get_design_for_user(request, code)
    prefilled = {name: request.GET[name] for name in PREFILLED_FIELDS if name in request.GET}
    edit_form = EditForm(design=design, initial={"version": design.version} | prefilled)
    return _render_design(request, design, membership, edit_form=edit_form)


def _render_design(
    request: HttpRequest,
    design: Design,
    membership: Membership,
    *,
    edit_form: EditForm | None = None,
    paste_form: PasteForm | None = None,
    conflict: Changes | None = None,
    status: int = 200,
) -> HttpResponse:
    window = design.window
    segments = design.segments()
    context = {
        "design": design,
        "workspace": design.workspace,
        "membership": membership,
        "edits": display.edit_rows(design.edit_list(), window),
        "diff": display.diff_rows(segments, window),
        "mapping": display.mapping_rows(segments, window),
        "lengths": _lengths(design, segments),
        "flank": display.FLANK,
        "example_position": f"{max(design.start, 0) + 1:,}",
        "lookups": _lookups(request, segments, window),
        "versions": design.versions.select_related("created_by")[:50],
        "edit_form": edit_form or EditForm(design=design, initial={"version": design.version}),
        "paste_form": paste_form or PasteForm(design=design, initial={"version": design.version}),
        "conflict": conflict,
        "conflict_rows": display.change_rows(conflict, window) if conflict else None,
    }
    context |= _prediction_context(design)
    is_lookup = "edited" in request.GET or "reference" in request.GET
    if request.htmx and request.method == "GET" and is_lookup:
        return render(request, "designs/detail.html#lookup", context)
    if request.htmx and request.method == "GET" and "prediction" in request.GET:
        response = render(request, "designs/detail.html#prediction", context)
        job = context["prediction_job"]
        if job is None or job.is_final:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "designs/detail.html", context, status=status)


def _prediction_context(design: Design) -> dict:
    job = prediction.latest_prediction(design)
    done = job is not None and job.status == JobStatus.SUCCEEDED
    return {
        "prediction_job": job,
        "prediction_igv": prediction.browser_config(design, job) if done else None,
        "prediction_tracks": (job.params["tracks"] if job else prediction.default_tracks(design)),
        "all_tracks": design.predictor.tracks.order_by("index").values_list(
            "identifier", flat=True
        )[:200],
    }


@login_required
@require_POST
def predict(request: HttpRequest, code) -> HttpResponse:
    """Predict the current version with the chosen tracks (once per version and tracks)."""
    design, _ = _get_design_for_user(request, code, need=WRITE)
    wanted = request.POST.getlist("tracks")
    known = set(
        design.predictor.tracks.filter(identifier__in=wanted).values_list("identifier", flat=True)
    )
    tracks = [t for t in wanted if t in known][: prediction.MAX_TRACKS]
    if not tracks:
        messages.error(request, "Choose at least one track to predict.")
    else:
        prediction.submit_prediction(design, request.user, tracks)
    return redirect(reverse("gw-design", kwargs={"code": design.code}) + "#prediction")


def _lengths(design: Design, segments) -> dict:
    """Lengths as people read them (1,000); the change is signed (+15, -3) or empty."""
    edited = sum(len(s.edited) for s in segments)
    change = edited - len(design.window)
    return {
        "reference": f"{len(design.window):,}",
        "model": f"{design.predictor.sequence_length:,}",
        "edited": f"{edited:,}",
        "change": f"{change:+,}" if change else "",
    }


def _lookups(request: HttpRequest, segments, window) -> list[str]:
    """Answers to the page's "where is position …" form (GET ``edited`` / ``reference``)."""
    answers = []
    if request.GET.get("edited", "").strip():
        answers.append(display.look_up_edited(segments, window, request.GET["edited"]))
    if request.GET.get("reference", "").strip():
        answers.append(display.look_up_reference(segments, window, request.GET["reference"]))
    return answers


@login_required
@require_POST
def add_edit(request: HttpRequest, code) -> HttpResponse:
    design, membership = _get_design_for_user(request, code, need=WRITE)
    form = EditForm(request.POST, design=design)
    if not form.is_valid():
        return _render_design(request, design, membership, edit_form=form, status=400)
    edit = form.edit()
    message = form.cleaned_data["message"] or _describe(edit, design)
    return _save(request, design, membership, form, lambda: [*design.edit_list(), edit], message)


@login_required
@require_POST
def remove_edit(request: HttpRequest, code, index: int) -> HttpResponse:
    design, membership = _get_design_for_user(request, code, need=WRITE)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _render_design(request, design, membership, status=400)
    edits = design.edit_list()
    if form.cleaned_data["version"] == design.version and index >= len(edits):
        raise Http404("no such edit")
    removed = edits[index] if index < len(edits) else None
    message = f"Removed {_describe(removed, design)}" if removed else ""
    return _save(
        request, design, membership, form, lambda: edits[:index] + edits[index + 1 :], message
    )


@login_required
@require_POST
def paste(request: HttpRequest, code) -> HttpResponse:
    """A whole sequence replaces every edit: stored as one edit over what differs."""
    design, membership = _get_design_for_user(request, code, need=WRITE)
    form = PasteForm(request.POST, design=design)
    if not form.is_valid():
        return _render_design(request, design, membership, paste_form=form, status=400)
    sequence = form.cleaned_data["fasta"]
    message = form.cleaned_data["message"] or f"Pasted a sequence of {len(sequence):,} bp"
    return _save(
        request,
        design,
        membership,
        form,
        lambda: edits_for_paste(design.reference_sequence(), sequence),
        message,
    )


def _save(
    request: HttpRequest,
    design: Design,
    membership: Membership,
    form: forms.Form,
    new_edits: Callable[[], list[Edit]],
    message: str,
) -> HttpResponse:
    """Save the edit list ``new_edits()`` as the next version, or answer 409 with what changed.

    ``new_edits`` is only called when the form was rendered from the current version, so it
    builds on the edits the user saw; ``save_edits`` then refuses if anyone saved meanwhile.
    """
    expected = form.cleaned_data["version"]
    if expected == design.version:
        try:
            edits = new_edits()
            is_saved = design.save_edits(
                edits, expected_version=expected, user=request.user, message=message
            )
        except ValueError as error:
            form.add_error(None, str(error))
            return _render_design(request, design, membership, status=400, **_slot(form))
        if is_saved:
            messages.success(request, f"Saved version {design.version}: {message}.")
            return redirect("gw-design", code=design.code)
        design.refresh_from_db()
    return _conflict(request, design, membership, form, expected)


def _conflict(
    request: HttpRequest, design: Design, membership: Membership, form: forms.Form, expected: int
) -> HttpResponse:
    """Someone saved since the user's page was rendered: show what, keep the user's input (now
    against the current version, so sending it again applies it on top), change nothing."""
    kept = {**request.POST.dict(), "version": design.version}
    slot = {}
    if isinstance(form, EditForm | PasteForm):
        slot = _slot(type(form)(design=design, initial=kept))
    changes = design.changes_since(expected)
    return _render_design(request, design, membership, conflict=changes, status=409, **slot)


def _slot(form: forms.Form) -> dict:
    if isinstance(form, EditForm):
        return {"edit_form": form}
    if isinstance(form, PasteForm):
        return {"paste_form": form}
    return {}


def _describe(edit: Edit, design: Design) -> str:
    text = f"{edit.kind} {display.edit_where(edit, design.window)}"
    return f"{text} ({edit.label})" if edit.label else text


@login_required
def motifs(request: HttpRequest, code) -> HttpResponse:
    """JASPAR motifs by TF name; each links back to the edit form, filled in with it."""
    design, membership = _get_design_for_user(request, code, need=WRITE)
    query = request.GET.get("q", "")
    base = reverse("gw-design", kwargs={"code": design.code})
    found = [
        {
            "motif": motif,
            "use_url": _prefill_url(base, motif.consensus, motif.label),
            "use_reverse_url": _prefill_url(
                base, motif.reverse_complement, f"{motif.label}, reverse complement"
            ),
        }
        for motif in search_motifs(query)
    ]
    context = {
        "design": design,
        "workspace": design.workspace,
        "membership": membership,
        "query": query,
        "found": found,
    }
    if request.htmx:
        return render(request, "designs/motifs.html#results", context)
    return render(request, "designs/motifs.html", context)


def _prefill_url(base: str, bases: str, label: str) -> str:
    return f"{base}?{urlencode({'kind': 'insertion', 'bases': bases, 'label': label})}#add-edit"


@login_required
def fasta(request: HttpRequest, code) -> HttpResponse:
    """The edited sequence as FASTA, 60 bases a line."""
    design, _ = _get_design_for_user(request, code)
    sequence = design.edited_sequence()
    header = (
        f">{slugify(design.name) or 'design'} {design.locus} {design.genome.name} "
        f"version {design.version}, {len(design.edits)} edit(s), {len(sequence)} bp"
    )
    lines = [header] + [sequence[i : i + FASTA_LINE] for i in range(0, len(sequence), FASTA_LINE)]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/x-fasta")
    filename = f"{slugify(design.name) or 'design'}-v{design.version}.fa"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
