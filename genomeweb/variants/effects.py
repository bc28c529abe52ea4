"""Browsing a scoring job's results: filters, server-side sort, pagination, histogram."""

from dataclasses import dataclass

import numpy as np
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Abs, Cast, Length

from genomeweb.genomics.intervals import Interval
from genomeweb.variants.models import VariantEffect

PAGE_SIZE = 50
SORTS = {
    "score": "max_abs",
    "position": "variant__index",
    "gene": "top_gene_name",
    "track": "top_track",
}


@dataclass
class EffectFilters:
    gene: str = ""
    region: str = ""
    min_abs: float | None = None
    scorer: str = ""
    track: str = ""
    kind: str = ""  # "snv", "indel" or ""
    sort: str = "score"
    descending: bool = True
    error: str = ""

    @classmethod
    def from_query(cls, query, scorers: list[str]) -> "EffectFilters":
        filters = cls(
            gene=query.get("gene", "").strip(),
            region=query.get("region", "").strip(),
            track=query.get("track", "").strip(),
            kind=query.get("kind", ""),
            sort=query.get("sort", "score"),
            descending=query.get("dir") != "asc",
        )
        filters.scorer = query.get("scorer", "") if query.get("scorer") in scorers else ""
        try:
            filters.min_abs = float(query["min_abs"]) if query.get("min_abs") else None
        except ValueError:
            filters.error = f"'{query['min_abs']}' is not a number"
        if filters.sort not in SORTS:
            filters.sort = "score"
        return filters


def score_expression(scorer: str):
    """|value| of one scorer at its strongest track, read from the row's JSON summary."""
    return Abs(Cast(KeyTextTransform(scorer, "scorer_max"), FloatField()))


def filter_effects(effects: QuerySet[VariantEffect], f: EffectFilters) -> QuerySet:
    if f.gene:
        effects = effects.filter(
            Q(top_gene_name__iexact=f.gene)
            | Q(top_gene__iexact=f.gene)
            | Q(variant__gene_effects__gene_name__iexact=f.gene)
        ).distinct()
    if f.region:
        effects = _in_region(effects, f)
    if f.track:
        effects = effects.filter(top_track__icontains=f.track)
    if f.kind == "snv":
        effects = effects.filter(variant__ref__length=1, variant__alt__length=1)
    elif f.kind == "indel":
        effects = effects.annotate(r=Length("variant__ref"), a=Length("variant__alt")).exclude(
            r=F("a")
        )
    effects = effects.annotate(score=score_expression(f.scorer) if f.scorer else F("max_abs"))
    if f.min_abs is not None:
        effects = effects.filter(score__gte=f.min_abs)
    return effects


def _in_region(effects: QuerySet, f: EffectFilters) -> QuerySet:
    text = f.region.replace(",", "")
    try:
        region = Interval.parse(text) if ":" in text else None
    except ValueError as error:
        f.error = str(error)
        return effects
    if region is None:
        return effects.filter(variant__chrom=text)
    return effects.filter(
        variant__chrom=region.chrom, variant__start__gte=region.start, variant__start__lt=region.end
    )


def sort_effects(effects: QuerySet, f: EffectFilters) -> QuerySet:
    field = "score" if f.sort == "score" else SORTS[f.sort]
    ordering = F(field).desc(nulls_last=True) if f.descending else F(field).asc(nulls_last=True)
    return effects.order_by(ordering, "variant__index")


def histogram(effects: QuerySet, bins: int = 30) -> dict | None:
    """The primary score's signed values as bars of an inline SVG (viewBox 300 × 60)."""
    values = np.array([v for v in effects.values_list("primary", flat=True) if v is not None])
    if values.size == 0:
        return None
    counts, edges = np.histogram(values, bins=bins)
    width, height = 300 / bins, 58 * counts / counts.max()
    bars = [
        {
            "x": i * width,
            "width": width * 0.9,
            "y": 60 - h,
            "height": h,
            "count": int(n),
            "low": float(edges[i]),
            "high": float(edges[i + 1]),
        }
        for i, (n, h) in enumerate(zip(counts, height, strict=True))
    ]
    return {"bars": bars, "low": float(edges[0]), "high": float(edges[-1])}


def default_tracks(effect: VariantEffect, model_tracks: dict) -> list[str]:
    """The variant's most affected track and, for a stranded track, its partner strand."""
    top = model_tracks.get(effect.top_track)
    if top is None:
        return []
    partner = next(
        (t.identifier for t in model_tracks.values() if t.index == top.strand_pair), None
    )
    return [top.identifier] + ([partner] if partner and partner != top.identifier else [])


def tracks_params(job, effect: VariantEffect, chosen: list[str]) -> dict:
    return {"effects_job": str(job.code), "effect": effect.pk, "tracks": sorted(chosen)}


def tracks_job_for(job, effect: VariantEffect, chosen: list[str]):
    """The latest track-prediction job for exactly these tracks, if one was requested."""
    from genomeweb.jobs.models import Job, JobKind

    return (
        Job.objects.filter(
            workspace=job.workspace,
            kind=JobKind.VARIANT_TRACKS,
            params__effects_job=str(job.code),
            params__effect=effect.pk,
            params__tracks=sorted(chosen),
        )
        .order_by("-created")
        .first()
    )


def track_score_rows(job, effect: VariantEffect) -> list[dict]:
    """Every track's scores for this allele, read from the job's memory-mapped matrix."""
    artifact = job.artifacts.filter(name="scores.npy").first()
    if artifact is None or not artifact.path.is_file():
        return []
    matrix = np.load(artifact.path, mmap_mode="r")  # (alleles, tracks, scorers)
    row = np.asarray(matrix[effect.variant.index])
    scorers = job.params["scorers"]
    return (
        [
            {"track": track, "scores": [None if np.isnan(v) else float(v) for v in row[t]]}
            for t, track in enumerate(job.params["tracks"])
        ]
        if row.shape[-1] == len(scorers)
        else []
    )
