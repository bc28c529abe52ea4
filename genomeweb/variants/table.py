"""Browsing a scoring job's results: filters, server-side sort, pagination, histogram."""

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Exists, F, FloatField, Max, Min, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Abs, Cast, Floor, Least, Length, Upper

from engine.io.intervals import Interval
from genomeweb.variants.models import GeneEffect, Mark, VariantEffect, VariantMark, VariantNote

PAGE_SIZE = 50
KINDS = ("snv", "indel")
SORTS = {
    "score": "max_abs",
    # Variant rows are inserted in index order, so their ids sort as their positions do
    # (genomeweb.variants.models.Variant); the ids are on the effect row itself: no join.
    "position": "variant_id",
    "gene": "top_gene_name",
    "track": "top_track",
}
# The marks filter: one mark, any mark, or a note.
ANY_MARK = "marked"
HAS_NOTE = "note"
MARK_FILTERS = [(ANY_MARK, "Any mark"), *Mark.choices, (HAS_NOTE, "Has a note")]


@dataclass
class EffectFilters:
    gene: str = ""
    region: str = ""
    min_abs: float | None = None
    scorer: str = ""
    track: str = ""
    kind: str = ""  # "snv", "indel" or ""
    mark: str = ""  # a Mark, ANY_MARK, HAS_NOTE or ""
    sort: str = "score"
    descending: bool = True
    error: str = ""

    @classmethod
    def from_query(cls, query, scorers: list[str]) -> "EffectFilters":
        filters = cls(
            gene=query.get("gene", "").strip(),
            region=query.get("region", "").strip(),
            track=query.get("track", "").strip(),
            kind=query.get("kind", "") if query.get("kind") in KINDS else "",
            mark=query.get("mark", "") if query.get("mark") in dict(MARK_FILTERS) else "",
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

    def histogram_key(self, job_code, annotation_version: int = 0) -> str:
        """A cache key for the histogram of these filters' rows (sorting and paging aside).

        Marks and notes change after the job has finished, so a key that filters by them also
        holds the variant set's ``annotation_version``: any change makes a new key.
        """
        chosen: tuple = (self.gene, self.region, self.min_abs, self.scorer, self.track, self.kind)
        if self.mark:
            chosen += (self.mark, annotation_version)
        digest = hashlib.sha256(repr(chosen).encode()).hexdigest()[:32]
        return f"gw:histogram:{job_code}:{digest}"


def score_expression(scorer: str):
    """|value| of one scorer at its strongest track, read from the row's JSON summary."""
    return Abs(Cast(KeyTextTransform(scorer, "scorer_max"), FloatField()))


def score_track_expression(scorer: str):
    """The track of that strongest value: each scorer's maximum may sit on its own track."""
    return KeyTextTransform(scorer, "scorer_track")


def filter_effects(effects: QuerySet[VariantEffect], f: EffectFilters) -> QuerySet:
    if f.gene:  # any gene scored in the variant's window (the top gene is one of them)
        named = GeneEffect.objects.annotate(name=Upper("gene_name"), ident=Upper("gene_id"))
        matches = named.filter(Q(name=f.gene.upper()) | Q(ident=f.gene.upper()))
        effects = effects.filter(
            Exists(matches.filter(job=OuterRef("job"), variant=OuterRef("variant")))
        )
    if f.region:
        effects = _in_region(effects, f)
    if f.track:
        effects = effects.filter(top_track__icontains=f.track)
    if f.kind:
        effects = effects.annotate(r=Length("variant__ref"), a=Length("variant__alt"))
        effects = effects.filter(r=1, a=1) if f.kind == "snv" else effects.exclude(r=F("a"))
    effects = effects.annotate(
        score=score_expression(f.scorer) if f.scorer else F("max_abs"),
        score_track=score_track_expression(f.scorer) if f.scorer else F("top_track"),
    )
    if f.min_abs is not None:
        effects = effects.filter(score__gte=f.min_abs)
    if f.mark:
        effects = effects.filter(Exists(_annotations(f.mark).filter(variant=OuterRef("variant"))))
    return effects


def _annotations(mark: str) -> QuerySet:
    """The rows an EXISTS looks up by variant: VariantMark's (variant, mark) unique index
    answers a mark, its prefix any mark, and VariantNote's variant index a note."""
    if mark == HAS_NOTE:
        return VariantNote.objects.all()
    if mark == ANY_MARK:
        return VariantMark.objects.all()
    return VariantMark.objects.filter(mark=mark)


def attach_annotations(rows: list[VariantEffect]) -> None:
    """Give each row of a page ``marks`` (labels) and ``note_count``, in one query."""
    if not rows:
        return
    ids = {row.variant_id for row in rows}
    marks = VariantMark.objects.filter(variant__in=ids).values_list("variant", "mark").order_by()
    notes = (
        VariantNote.objects.filter(variant__in=ids)
        .values_list("variant", Value(HAS_NOTE))
        .order_by()
    )
    found: dict[int, list[str]] = {}
    for variant_id, mark in marks.union(notes, all=True):
        found.setdefault(variant_id, []).append(mark)
    for row in rows:
        values = found.get(row.variant_id, [])
        row.marks = [label for mark, label in Mark.choices if mark in values]
        row.note_count = values.count(HAS_NOTE)


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
    if f.sort == "score":  # unscored alleles (null) last either way
        nulls = {"nulls_last": True}
        field = "score"
    else:  # not-null columns: plain order, which PostgreSQL reads off their indexes backwards too
        nulls = {}
        field = SORTS[f.sort]
    ordering = F(field).desc(**nulls) if f.descending else F(field).asc(**nulls)
    return effects.order_by(ordering, "variant_id")


def histogram(effects: QuerySet, bins: int = 30) -> dict | None:
    """The primary score's signed values as bars of an inline SVG (viewBox 300 × 60), counted
    by the database (a 250,000-allele job never travels to Python); bins as ``np.histogram``.
    """
    values = effects.exclude(primary=None).order_by()
    bounds = values.aggregate(low=Min("primary"), high=Max("primary"), n=Count("pk"))
    if not bounds["n"]:
        return None
    low, high = bounds["low"], bounds["high"]
    if low == high:  # as numpy: one value, centred in a range of ±0.5
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    last = Value(float(bins - 1))  # the maximum falls in the last bin, as in numpy
    bucket = Least(Floor((F("primary") - low) / width), last)
    counts = np.zeros(bins, dtype=np.int64)
    for row in values.annotate(bucket=bucket).values("bucket").annotate(n=Count("pk")):
        counts[int(row["bucket"])] = row["n"]
    heights = 58 * counts / counts.max()
    bars = [
        {
            "x": i * 300 / bins,
            "width": 300 / bins * 0.9,
            "y": 60 - h,
            "height": h,
            "count": int(n),
            "low": low + i * width,
            "high": low + (i + 1) * width,
        }
        for i, (n, h) in enumerate(zip(counts, heights, strict=True))
    ]
    return {"bars": bars, "low": low, "high": high}


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
    """Every track's scores for this allele, and their replicate spreads where the job used
    several replicates, read from the job's memory-mapped matrices."""
    row = _matrix_row(job, "scores.npy", effect)
    scorers = job.params["scorers"]
    if row is None or row.shape[-1] != len(scorers):
        return []
    spread = _matrix_row(job, "spread.npy", effect)
    if spread is None or spread.shape != row.shape:
        spread = np.full_like(row, np.nan)
    return [
        {
            "track": track,
            "scores": [
                {"value": _nullable(value), "spread": _nullable(sd)}
                for value, sd in zip(row[t].tolist(), spread[t].tolist(), strict=True)
            ],
        }
        for t, track in enumerate(job.params["tracks"])
    ]


def _matrix_row(job, name: str, effect: VariantEffect) -> np.ndarray | None:
    """This allele's ``(tracks, scorers)`` row of the job's ``name`` matrix (None: none)."""
    artifact = job.artifacts.filter(name=name).first()
    if artifact is None or not artifact.path.is_file():
        return None
    matrix = np.load(artifact.path, mmap_mode="r")  # (alleles, tracks, scorers)
    return np.asarray(matrix[effect.variant.index])


def _nullable(value: float) -> float | None:
    return None if math.isnan(value) else value
