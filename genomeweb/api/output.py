"""Rows as the API shows them: plain dicts matching the schemas in ``schemas.py``."""

from django.core.paginator import Page
from django.http import HttpRequest
from django.urls import reverse

from engine.designs.edits import INSERTION, Edit
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job
from genomeweb.results.models import Artifact
from genomeweb.variants.models import VariantEffect, VariantSet


def page_info(page: Page) -> dict:
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "page_size": page.paginator.per_page,
    }


def artifact_out(request: HttpRequest, artifact: Artifact) -> dict:
    path = reverse("gw-artifact-named", kwargs={"code": artifact.code, "filename": artifact.name})
    return {
        "code": artifact.code,
        "name": artifact.name,
        "description": artifact.description,
        "content_type": artifact.content_type,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "url": request.build_absolute_uri(path),
    }


def job_out(request: HttpRequest, job: Job) -> dict:
    return {
        "code": job.code,
        "workspace": job.workspace.code,
        "kind": job.kind,
        "status": job.status,
        "is_final": job.is_final,
        "percent": job.percent,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "params": job.params,
        "summary": job.summary,
        "created": job.created,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "artifacts": [artifact_out(request, a) for a in job.artifacts.all()],
    }


def variant_set_out(request: HttpRequest, variant_set: VariantSet) -> dict:
    job = variant_set.validation_job
    fields = ("code", "name", "original_filename", "size", "created", "records_read")
    counts = ("accepted", "skipped", "rejected", "duplicates", "realigned", "reasons", "warnings")
    return {name: getattr(variant_set, name) for name in fields + counts} | {
        "workspace": variant_set.workspace.code,
        "genome": variant_set.genome.name,
        "status": job.status if job else "",
        "validation_job": job_out(request, job) if job else None,
    }


def effect_out(effect: VariantEffect) -> dict:
    variant = effect.variant
    fields = (
        "max_abs",
        "primary",
        "primary_spread",
        "top_track",
        "top_gene",
        "top_gene_name",
        "top_gene_log_sed",
        "top_gene_log_sed_spread",
        "primary_pct",
        "beyond_noise",
    )
    return {name: getattr(effect, name) for name in fields} | {
        "id": effect.pk,
        "chrom": variant.chrom,
        "pos": variant.pos,
        "ref": variant.ref,
        "alt": variant.alt,
        "ident": variant.ident,
        "top_track_scores": effect.top_track_scores,
        "scorer_max": effect.scorer_max,
        "scorer_track": effect.scorer_track,
        "top_track_pct": effect.top_track_pct,
        "scorer_pct": effect.scorer_pct,
    }


def edit_out(edit: Edit, design: Design) -> dict:
    """Window coordinates (0-based half-open) as the 1-based genome positions people type."""
    first = design.start + edit.start + 1
    return {
        "kind": edit.kind,
        "position": first,
        "end_position": None if edit.kind == INSERTION else design.start + edit.end,
        "bases": edit.sequence,
        "label": edit.label,
    }


def design_out(design: Design) -> dict:
    return {
        "code": design.code,
        "workspace": design.workspace.code,
        "name": design.name,
        "model": design.predictor.name,
        "genome": design.genome.name,
        "locus": design.locus,
        "chrom": design.chrom,
        "start": design.start + 1,
        "end": design.end,
        "centred_on": design.centred_on,
        "version": design.version,
        "edits": [edit_out(edit, design) for edit in design.edit_list()],
    }
