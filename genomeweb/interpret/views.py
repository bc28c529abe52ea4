"""Interpretation: start ISM / saliency jobs for a locus, and read their results in igv.js."""

import numpy as np
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseStopPolling

from engine.interpret.ism_rules import ism_passes
from engine.io.annotation import Gene as AnnotatedGene
from engine.io.intervals import Interval
from genomeweb.catalog.models import Predictor
from genomeweb.interpret.alleles import alternative_of
from genomeweb.interpret.forms import METHOD_KINDS, InterpretForm
from genomeweb.interpret.igv import allele_pair_config, browser_config, objective_gene
from genomeweb.jobs.costs import scoring_cost
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.jobs.submit import submit_once
from genomeweb.variants.models import Variant
from genomeweb.workspaces.access import WRITE, get_for_member
from genomeweb.workspaces.models import Workspace

RESULT_KINDS = list(METHOD_KINDS.values())
STRONGEST_LINKS = 12
SALIENCY_PASS_COST = 3  # a forward and a backward pass, in forward passes


@login_required
def new(request: HttpRequest, code) -> HttpResponse:
    """The form; with htmx, just the cost estimate of what it holds so far."""
    workspace, membership = get_for_member(
        Workspace.objects, request, workspace_path="", need=WRITE, code=code
    )
    form = InterpretForm(request.POST or request.GET or None)
    if request.method == "POST" and form.is_valid():
        job = submit(workspace, request.user, form)
        return redirect("gw-job", code=job.code)
    context = {"workspace": workspace, "membership": membership, "form": form}
    if request.GET and form.is_valid():
        context["estimate"] = estimate(form)
    template = "interpret/new.html#estimate" if request.htmx else "interpret/new.html"
    status = 400 if request.method == "POST" else 200
    return render(request, template, context, status=status)


def submit(workspace: Workspace, user, form: InterpretForm) -> Job:
    """One job per distinct request (a double click finds the first)."""
    kind = METHOD_KINDS[form.cleaned_data["method"]]
    params = form.job_params()
    return submit_job(workspace, user, kind, params)


def submit_job(workspace: Workspace, user, kind: str, params: dict) -> Job:
    return submit_once(workspace=workspace, user=user, kind=kind, params=params, key_prefix=kind)


def estimate(form: InterpretForm) -> dict:
    """Forward passes, and their time at the cost of the model's scoring passes."""
    data, predictor = form.cleaned_data, form.cleaned_data["model"]
    per_pass = 2 if data["reverse_complement"] else 1
    if data["method"] == "ism":
        passes = ism_passes(len(data["locus"]), per_pass)
    elif data["method"] == "saliency":
        passes = SALIENCY_PASS_COST * per_pass
    else:
        passes = 1  # attention: one forward pass of one replicate
    return {"passes": passes, "time": scoring_cost(predictor).estimate(passes)}


@login_required
def result(request: HttpRequest, code) -> HttpResponse:
    job, membership = get_for_member(
        Job.objects.select_related("workspace"),
        request,
        code=code,
        kind__in=RESULT_KINDS,
    )
    predictor = Predictor.objects.filter(name=job.params["model"]).select_related("genome").first()
    context = {"job": job, "membership": membership, "workspace": job.workspace}
    if job.status == JobStatus.SUCCEEDED and predictor is not None:
        gene = objective_gene(job, predictor.genome)
        context["igv"] = browser_config(job, predictor.genome, gene)
        context["figure"] = figure_files({a.name: a for a in job.artifacts.all()})
        if job.summary.get("focused_ism"):
            context["focused"] = _focused_stretch(job.summary["focused_ism"], gene)
        if job.kind == JobKind.ATTENTION:
            context["attention_svg"] = job.artifacts.get(name="attention.svg").path.read_text()
    if request.htmx:
        response = render(request, "interpret/result.html#status", context)
        if job.is_final:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "interpret/result.html", context)


@login_required
def alleles(request: HttpRequest, code) -> HttpResponse:
    """A variant's reference and alternative allele explained side by side (``code`` is the
    reference allele's job)."""
    reference, membership = get_for_member(
        Job.objects.select_related("workspace"),
        request,
        code=code,
        kind__in=RESULT_KINDS,
        params__allele__side="ref",
    )
    alternative = alternative_of(reference)
    variant = Variant.objects.filter(
        pk=reference.params["allele"]["variant"], variant_set__workspace=reference.workspace
    ).first()
    if alternative is None or variant is None:
        raise Http404("The other allele's job or the variant no longer exists.")
    jobs = (reference, alternative)
    context = {
        "job": reference,
        "variant": variant,
        "sides": [
            _side(reference, variant.ref, "Reference"),
            _side(alternative, variant.alt, "Alternative"),
        ],
        "membership": membership,
        "workspace": reference.workspace,
        "finished": all(job.is_final for job in jobs),
    }
    predictor = (
        Predictor.objects.filter(name=reference.params["model"]).select_related("genome").first()
    )
    if all(job.status == JobStatus.SUCCEEDED for job in jobs) and predictor is not None:
        context["igv"] = allele_pair_config(reference, alternative, predictor.genome, variant)
        context["change"] = _objective_change(reference, alternative)
    if request.htmx:
        response = render(request, "interpret/alleles.html#status", context)
        if context["finished"]:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "interpret/alleles.html", context)


def _focused_stretch(region: list, gene: AnnotatedGene | None) -> dict:
    """A saliency job's proposed ISM stretch, for people: where, how long, and where it lies
    from the objective's gene's start (on the gene's strand)."""
    stretch = Interval(*region)
    facts = {"region": stretch.readable(), "bp": len(stretch), "substitutions": 3 * len(stretch)}
    if gene is not None and gene.chrom == stretch.chrom:
        facts["relation"] = relative_to_start(gene, (stretch.start + stretch.end) // 2)
    return facts


def relative_to_start(gene: AnnotatedGene, position: int) -> str:
    """``150 bp upstream of TDH3's start``: ``position`` (0-based) read on the gene's strand."""
    offset = gene.tss - position if gene.strand == "-" else position - gene.tss
    name = gene.name or gene.gene_id
    if offset < 0:
        return f"{-offset:,} bp upstream of {name}'s start"
    if offset < gene.end - gene.start:
        return f"{offset:,} bp downstream of {name}'s start, inside the gene"
    return f"{offset:,} bp downstream of {name}'s start, past its 3′ end"


def _side(job: Job, bases: str, name: str) -> dict:
    files = {a.name: a for a in job.artifacts.all()} if job.status == JobStatus.SUCCEEDED else {}
    attention = files.get("attention.svg")
    return {
        "job": job,
        "name": name,
        "bases": bases,
        "figure": figure_files(files),
        "attention_svg": attention.path.read_text() if attention else None,
    }


def figure_files(files: dict) -> dict | None:
    """The paper figure of an ISM result, as PNG (shown) and SVG (linked)."""
    if "ism.png" in files and "ism.svg" in files:
        return {"png": files["ism.png"], "svg": files["ism.svg"]}
    return None


def _objective_change(reference: Job, alternative: Job) -> dict | None:
    """The objective of the unmutated sequence on each side (ISM and saliency record it)."""
    key = "reference_objective" if reference.kind == JobKind.ISM else "objective_value"
    ref_value, alt_value = reference.summary.get(key), alternative.summary.get(key)
    if ref_value is None or alt_value is None:
        return None
    return {"ref": ref_value, "alt": alt_value, "delta": alt_value - ref_value}


@login_required
def focused_ism(request: HttpRequest, code) -> HttpResponse:
    """From a saliency job: ISM of its proposed stretch, with the same model and objective."""
    saliency, _ = get_for_member(
        Job.objects.select_related("workspace"),
        request,
        need=WRITE,
        code=code,
        kind=JobKind.SALIENCY,
        status=JobStatus.SUCCEEDED,
    )
    if request.method != "POST":
        return redirect("gw-interpretation", code=saliency.code)
    params = saliency.params | {"region": saliency.summary["focused_ism"]}
    job = submit_job(saliency.workspace, request.user, JobKind.ISM, params)
    return redirect("gw-job", code=job.code)


@login_required
def attention_links(request: HttpRequest, code, row: int) -> JsonResponse:
    """The strongest links of one query token (a heatmap row), as igv.js ``interact``
    features, and the locus to show them."""
    job, _ = get_for_member(
        Job.objects.select_related("workspace"),
        request,
        code=code,
        kind=JobKind.ATTENTION,
        status=JobStatus.SUCCEEDED,
    )
    with np.load(job.artifacts.get(name="attention.npz").path) as saved:
        weights, chrom = saved["weights"], str(saved["chrom"])
        start, token_bp = int(saved["window_start"]), int(saved["token_bp"])
    if not 0 <= row < len(weights):
        raise Http404("no such token")
    values = weights[row].astype(np.float32)
    strongest = np.argsort(values)[::-1][:STRONGEST_LINKS]

    def span(token: int) -> tuple[int, int]:
        return start + token * token_bp, start + (token + 1) * token_bp

    query = span(row)
    features = [
        {
            "chr1": chrom,
            "start1": query[0],
            "end1": query[1],
            "chr2": chrom,
            "start2": span(int(key))[0],
            "end2": span(int(key))[1],
            "value": float(values[key]),
        }
        for key in strongest
        if span(int(key))[0] >= 0 and query[0] >= 0
    ]
    reach = [query[0], query[1], *(f["start2"] for f in features), *(f["end2"] for f in features)]
    low, high = max(min(reach) - token_bp, 0), max(reach) + token_bp
    return JsonResponse(
        {
            "name": f"Attention from {chrom}:{query[0] + 1:,}-{query[1]:,}",
            "features": features,
            "locus": f"{chrom}:{low + 1}-{high}",
        }
    )
