"""Browsing a scoring job's results: filters, server-side sort, pagination, histogram."""

import hashlib
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, FloatField, Max, Min, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Abs, Cast, Floor, Least, Length, Upper
from django.db.models.lookups import Exact
from django.http import QueryDict

from engine.io.bigwig import COVERAGE_UNIT
from genomeweb.catalog.models import Genome
from genomeweb.variants.lookup import (
    has_ident,
    location_condition,
    nothing_found,
    parse_region,
    resolve,
    search_condition,
)
from genomeweb.variants.models import (
    IS_SNV,
    GeneEffect,
    Mark,
    Variant,
    VariantEffect,
    VariantMark,
    VariantNote,
    VariantSet,
)
from genomeweb.variants.search import SearchKind, SearchQuery, parse_search

PAGE_SIZE = 50
KINDS = ("snv", "indel")
SORTS = {
    "score": "max_abs",
    # Variant rows are inserted in index order, so their ids sort as their positions do
    # (genomeweb.variants.models.Variant); the ids are on the effect row itself: no join.
    "position": "variant_id",
    "gene": "top_gene_name",
    "track": "top_track",
    "percentile": "pct",  # the chosen scorer's percentile (filter_effects annotates it)
}
# The marks filter: one mark, any mark, or a note.
ANY_MARK = "marked"
HAS_NOTE = "note"
MARK_FILTERS = [(ANY_MARK, "Any mark"), *Mark.choices, (HAS_NOTE, "Has a note")]


# What an empty table says when no single filter explains it (the filters together do).
NO_MATCH = "No allele matches these filters."
# The histogram's bars filter the table to their range of the primary scorer's signed values.
PRIMARY_RANGE = ("primary_from", "primary_to")
# How long a finished job's count and histogram of one filter set are kept.
ROWS_CACHE_SECONDS = 3600


@dataclass
class EffectFilters:
    q: str = ""  # the search box: variant ID, rsID, allele, position, region, gene or contig
    gene: str = ""
    region: str = ""
    min_abs: float | None = None
    min_pct: float | None = None  # the chosen scorer's percentile against the background
    scorer: str = ""
    track: str = ""
    kind: str = ""  # "snv", "indel" or ""
    mark: str = ""  # a Mark, ANY_MARK, HAS_NOTE or ""
    primary_from: float | None = None  # primary >= this
    primary_to: float | None = None  # primary < this
    sort: str = "score"
    descending: bool = True
    errors: dict[str, str] = field(default_factory=dict)  # query field -> why it was not used
    # What filter_effects made of the search and region text (contigs resolved), for messages.
    search: SearchQuery | None = None
    located: SearchQuery | None = None

    @property
    def error(self) -> str:
        return " ".join(self.errors.values())

    @classmethod
    def from_query(cls, query, scorers: list[str]) -> "EffectFilters":
        filters = cls(
            q=" ".join(query.get("q", "").split()),
            gene=query.get("gene", "").strip(),
            region=query.get("region", "").strip(),
            track=query.get("track", "").strip(),
            kind=query.get("kind", "") if query.get("kind") in KINDS else "",
            mark=query.get("mark", "") if query.get("mark") in dict(MARK_FILTERS) else "",
            sort=query.get("sort", "score"),
            descending=query.get("dir") != "asc",
        )
        filters.scorer = query.get("scorer", "") if query.get("scorer") in scorers else ""
        for name in ("min_abs", "min_pct", *PRIMARY_RANGE):
            filters._read_number(query, name)
        if filters.sort not in SORTS:
            filters.sort = "score"
        return filters

    def _read_number(self, query, name: str) -> None:
        text = query.get(name, "").strip()
        try:
            value = float(text) if text else None
        except ValueError:
            self.errors[name] = f"'{text}' is not a number"
            return
        if value is not None and not math.isfinite(value):
            self.errors[name] = f"'{text}' is not a finite number"
            return
        setattr(self, name, value)

    @property
    def is_ranged(self) -> bool:
        """True when a histogram bar narrowed the table to a range of the primary score."""
        return self.primary_from is not None or self.primary_to is not None

    @property
    def is_filtering(self) -> bool:
        """True when any filter narrows the rows (a scorer or a sort alone does not)."""
        typed = (self.q, self.gene, self.region, self.track, self.kind, self.mark)
        limits = (self.min_abs, self.min_pct, self.primary_from, self.primary_to)
        return any(typed) or any(limit is not None for limit in limits)

    def cache_key(self, job_code, annotation_version: int = 0) -> str:
        """A cache key for what these filters' rows add up to (sorting and paging aside): a
        finished job's histogram and count, which the key suffixes name.

        Marks and notes change after the job has finished, so a key that filters by them also
        holds the variant set's ``annotation_version``: any change makes a new key.
        """
        chosen: tuple = (self.gene, self.region, self.min_abs, self.scorer, self.track, self.kind)
        chosen += (self.q, self.primary_from, self.primary_to, self.min_pct)
        if self.mark:
            chosen += (self.mark, annotation_version)
        digest = hashlib.sha256(repr(chosen).encode()).hexdigest()[:32]
        return f"gw:rows:{job_code}:{digest}"


def scored_set(job) -> VariantSet | None:
    """The variant set a scoring job scored, with its genome (whose contig aliases the search
    and the region filter accept); None once the set is gone."""
    code = job.params.get("variant_set")
    return VariantSet.objects.filter(code=code).select_related("genome").first()


def job_rows(job, query) -> tuple[EffectFilters, VariantSet | None, QuerySet]:
    """A scoring job's effect rows that pass the filters of ``query`` (the page's or the API's
    query string), with those filters (and their errors) and the scored set."""
    filters = EffectFilters.from_query(query, job.params.get("scorers", []))
    variant_set = scored_set(job)
    genome = variant_set.genome if variant_set else None
    variants = variant_set.variants.all() if variant_set else None
    rows = filter_effects(
        job.variant_effects.select_related("variant"),
        filters,
        genome,
        variants=variants,
        tracks=job.params.get("tracks"),
    )
    return filters, variant_set, rows


def score_expression(scorer: str):
    """|value| of one scorer at its strongest track, read from the row's JSON summary."""
    return Abs(Cast(KeyTextTransform(scorer, "scorer_max"), FloatField()))


def percentile_expression(scorer: str):
    """Its percentile against the model's background (null: none), at that same track."""
    return Cast(KeyTextTransform(scorer, "scorer_pct"), FloatField())


def score_track_expression(scorer: str):
    """The track of that strongest value: each scorer's maximum may sit on its own track."""
    return KeyTextTransform(scorer, "scorer_track")


def filter_effects(
    effects: QuerySet[VariantEffect],
    f: EffectFilters,
    genome: Genome | None = None,
    *,
    variants: QuerySet[Variant] | None = None,
    tracks: list[str] | None = None,
) -> QuerySet:
    """The rows passing ``f``; ``genome`` resolves the contigs typed in the search and region
    (None: as typed). ``variants``: the scored set's, where the search and the kind filter
    look (None: every set's; the rows' own narrow them). ``tracks``: the job's track
    identifiers, which the track filter's text is matched against (None: each row's). A
    search or region that cannot be used finds nothing; ``f.errors`` says why."""
    if f.q:
        effects = _searched(effects, f, genome, variants)
    if f.gene:
        effects = _near_gene(effects, f.gene)
    if f.region:
        effects = _in_region(effects, f, genome)
    if f.track:
        effects = _on_tracks(effects, f.track, tracks)
    if f.kind:
        effects = _of_kind(effects, f.kind, variants)
    if f.scorer:
        # Every row holds each scorer of its job (engine.variants.exports.summarize), so this
        # keeps them all; it is what lets PostgreSQL use the scorer's partial index (0012).
        effects = effects.filter(scorer_max__has_key=f.scorer)
    effects = with_scores(effects, f)
    if f.min_abs is not None:
        effects = effects.filter(score__gte=f.min_abs)
    if f.min_pct is not None:
        if f.scorer:  # a row without a percentile fails the filter anyway
            effects = effects.filter(scorer_pct__has_key=f.scorer)
        effects = effects.filter(pct__gte=f.min_pct)
    if f.primary_from is not None:
        effects = effects.filter(primary__gte=f.primary_from)
    if f.primary_to is not None:
        effects = effects.filter(primary__lt=f.primary_to)
    if f.mark:
        effects = effects.filter(Exists(_annotations(f.mark).filter(variant=OuterRef("variant"))))
    return effects


def with_scores(effects: QuerySet[VariantEffect], f: EffectFilters) -> QuerySet:
    """The rows with the chosen scorer's ``score``, ``score_track`` and ``pct`` (the primary
    scorer's columns when none is chosen), which the table shows, filters and sorts by."""
    return effects.annotate(
        score=score_expression(f.scorer) if f.scorer else F("max_abs"),
        score_track=score_track_expression(f.scorer) if f.scorer else F("top_track"),
        pct=percentile_expression(f.scorer) if f.scorer else F("primary_pct"),
    )


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


def _scored_gene(name: str) -> Exists:
    """Any gene scored in the variant's window (the top gene is one of them), by name or ID in
    any case: the (job, upper(name)) and (job, upper(id)) indexes answer it."""
    named = GeneEffect.objects.annotate(name=Upper("gene_name"), ident=Upper("gene_id"))
    matches = named.filter(Q(name=name.upper()) | Q(ident=name.upper()))
    return Exists(matches.filter(job=OuterRef("job"), variant=OuterRef("variant")))


def _near_gene(effects: QuerySet, name: str) -> QuerySet:
    """The rows of the variants with ``name`` among their scored genes, the variants found
    first (a gene's few hundred, by the gene indexes). As a condition on each row, PostgreSQL
    walked a 270k-allele job in score order testing rows against the gene rows (1.3-2 s a
    page); it flattens a plain ``IN`` into the same plan, but not a UNION, which it computes
    first: hence the set's union with itself (2-5 ms)."""
    found = effects.filter(_scored_gene(name)).values("variant_id")
    return effects.filter(variant_id__in=found.union(found))


def _searched(
    effects: QuerySet, f: EffectFilters, genome: Genome | None, variants: QuerySet | None
) -> QuerySet:
    """The rows of the variants found by ID or place (looked up in the variants' own indexes,
    not through every row of the job), or, for a name, by a gene scored near them."""
    try:
        f.search = resolve(parse_search(f.q), genome)
    except ValueError as error:
        f.errors["q"] = str(error)
        return effects.none()
    variants = Variant.objects.all() if variants is None else variants
    found = variants.filter(search_condition(f.search)).order_by().values("id")
    if f.search.kind in (SearchKind.NAME, SearchKind.CONTIG):
        # PostgreSQL can use neither side's index for an OR of the two (6.9 s for a gene on
        # a 250k job); each side alone uses its own, and the rows are those of their union.
        found = found.union(effects.filter(_scored_gene(f.q)).values("variant_id"))
    return effects.filter(variant_id__in=found)


def _of_kind(effects: QuerySet, kind: str, variants: QuerySet | None) -> QuerySet:
    """SNVs, or indels (REF and ALT of different lengths; an MNV is neither), found among
    the set's alleles that are not SNVs: few in most sets, and a partial index lists them
    (Variant.Meta), so neither filter joins every row of the job to its variant."""
    variants = Variant.objects.all() if variants is None else variants
    others = variants.filter(~IS_SNV, pk=OuterRef("variant_id")).order_by()
    if kind == "snv":
        return effects.exclude(Exists(others))
    return effects.filter(Exists(others.exclude(Exact(Length("ref"), Length("alt")))))


def _on_tracks(effects: QuerySet, text: str, tracks: list[str] | None) -> QuerySet:
    """Rows whose track holds ``text`` in any case. With the job's tracks known, the matching
    identifiers are picked here and looked up in the (job, top_track) index, instead of
    matching the text against each of a 250k job's rows."""
    if tracks is None:
        return effects.filter(top_track__icontains=text)
    wanted = text.casefold()
    return effects.filter(top_track__in=[t for t in tracks if wanted in t.casefold()])


def _in_region(effects: QuerySet, f: EffectFilters, genome: Genome | None) -> QuerySet:
    try:
        f.located = parse_region(f.region, genome)
    except ValueError as error:
        f.errors["region"] = str(error)
        return effects.none()
    return effects.filter(location_condition(f.located, via="variant"))


def sort_effects(effects: QuerySet, f: EffectFilters) -> QuerySet:
    if f.sort == "score" and not f.scorer and f.is_ranged:
        effects = _score_bounded_by_range(effects, f.primary_from, f.primary_to)
    if f.sort in ("score", "percentile"):  # unscored or uncalibrated (null) last either way
        nulls = {"nulls_last": True}
        field = SORTS[f.sort] if f.sort == "percentile" else "score"
    else:  # not-null columns: plain order, which PostgreSQL reads off their indexes backwards too
        nulls = {}
        field = SORTS[f.sort]
    ordering = F(field).desc(**nulls) if f.descending else F(field).asc(**nulls)
    return effects.order_by(ordering, "variant_id")


def _score_bounded_by_range(effects: QuerySet, low: float | None, high: float | None) -> QuerySet:
    """The same rows, with the bounds that ``low <= primary < high`` (a histogram bar) puts
    on ``max_abs``, which is ``|primary|`` on every row (engine.variants.exports.summarize):
    sorted strongest first, a bar of weak alleles then reads only its stretch of the score
    index instead of every stronger row before it (0.22 s -> 0.01 s on a 250k job). Only the
    sorted page gets them: the bar's count and histogram are index-only scans of (job,
    primary), which a condition on another column would send to the table's rows."""
    if low is not None and low >= 0:
        effects = effects.filter(max_abs__gte=low)
    if high is not None and high <= 0:
        effects = effects.filter(max_abs__gte=-high)
    if low is not None and high is not None:
        effects = effects.filter(max_abs__lte=max(abs(low), abs(high)))
    return effects


class SortedRows:
    """A scoring job's filtered rows in the table's order, as a Paginator reads them.

    A page is fetched in two steps: the page's variant ids alone, sorted and sliced on the
    effect rows (an index-only scan of the sort's index, see VariantEffect.Meta), then those
    50 rows with their variants. Sorting the rows joined to their variants sorted all of a
    250k job's rows on disk for a far page (2.7 s for page 2,000).
    """

    def __init__(
        self,
        job,
        rows: QuerySet,
        f: EffectFilters,
        *,
        known_count: int | None,
        count_key: str | None = None,
    ):
        self.job, self.rows, self.filters = job, rows, f
        self.known_count, self.count_key = known_count, count_key

    def count(self) -> int:
        """The job's row count when nothing filters; else counted once per ``count_key``
        (a finished job's rows never change; a filter by marks has their version in it)."""
        if self.known_count is not None and not self.filters.is_filtering:
            return self.known_count
        if self.count_key is None:
            return self.rows.count()
        return cache.get_or_set(self.count_key, self.rows.count, ROWS_CACHE_SECONDS)

    def __getitem__(self, window: slice) -> list[VariantEffect]:
        ordered = sort_effects(self.rows, self.filters)
        variant_ids = list(ordered.values_list("variant_id", flat=True)[window])
        chosen = self.job.variant_effects.select_related("variant")
        rows = with_scores(chosen, self.filters).filter(variant_id__in=variant_ids)
        by_variant = {row.variant_id: row for row in rows}
        # A row deleted between the two queries (its set was deleted) is left out.
        return [by_variant[v] for v in variant_ids if v in by_variant]


def paginate(
    job,
    variant_set: VariantSet | None,
    rows: QuerySet,
    f: EffectFilters,
    number: str | int | None,
    per_page: int = PAGE_SIZE,
) -> Page:
    """Page ``number`` of ``rows`` (``job_rows``) sorted as ``f`` says."""
    known = known_row_count(job, variant_set)
    count_key = None
    if known is not None:  # finished, with its set
        count_key = f.cache_key(job.code, variant_set.annotation_version) + ":count"
    sorted_rows = SortedRows(job, rows, f, known_count=known, count_key=count_key)
    return Paginator(sorted_rows, per_page).get_page(number)


def known_row_count(job, variant_set: VariantSet | None) -> int | None:
    """How many rows a finished job stored, from its summary: one per allele of the set,
    unscored alleles included (``worker.jobs.scoring``), so no COUNT over them is needed.
    None while the job runs (the rows of finished parts are shown) and once its set is gone
    (deleting it deletes the rows)."""
    from genomeweb.jobs.models import JobStatus

    if job.status != JobStatus.SUCCEEDED or variant_set is None:
        return None
    return job.summary.get("alleles")


def histogram(effects: QuerySet, bins: int = 30) -> dict | None:
    """The primary score's signed values as bars of an inline SVG (viewBox 300 × 60), counted
    by the database (a 250,000-allele job never travels to Python); bins as ``np.histogram``.
    """
    values = effects.exclude(primary=None).order_by()
    # MIN and MAX alone: PostgreSQL reads each off the (job, primary) index's ends.
    bounds = values.aggregate(low=Min("primary"), high=Max("primary"))
    if bounds["low"] is None:
        return None
    low, high = bounds["low"], bounds["high"]
    if low == high:  # as numpy: one value, centred in a range of ±0.5
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    last = Value(float(bins - 1))  # the maximum falls in the last bin, as in numpy
    bucket = Least(Floor((F("primary") - low) / width), last)
    counts = np.zeros(bins, dtype=np.int64)
    # COUNT(*), not of a column the index lacks: the bars are an index-only scan unfiltered.
    for row in values.annotate(bucket=bucket).values("bucket").annotate(n=Count("*")):
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
    return {"bars": bars, "low": low, "high": high, "peak": int(counts.max())}


def bar_links(drawn: dict, query: QueryDict) -> list[dict]:
    """The histogram's bars, each with the query string that lists its alleles: the filters
    shown, narrowed to ``low <= primary < high``. The outer bars are open-ended, so the
    largest value (which numpy puts in the last bar) is in it and no float edge loses a row.
    """
    kept = kept_query(query, drop=("page", *PRIMARY_RANGE))
    last = len(drawn["bars"]) - 1
    linked = []
    for i, bar in enumerate(drawn["bars"]):
        bounds = [("primary_from", repr(bar["low"]))] if i > 0 else []
        bounds += [("primary_to", repr(bar["high"]))] if i < last else []
        linked.append(bar | {"query": urlencode(kept + bounds)})
    return linked


# A column's first click sorts it this way (strongest first; A to Z); the next click reverses.
FIRST_DIRECTION = {
    "score": "desc",
    "percentile": "desc",
    "position": "asc",
    "gene": "asc",
    "track": "asc",
}


def sort_links(query: QueryDict, f: EffectFilters) -> dict[str, dict]:
    """Each sortable column's link: the filters shown, that sort and direction, page 1 (one of
    each parameter: a link never appends to the sort it replaces); and the sorted column's
    arrow."""
    kept = kept_query(query, drop=("page", "sort", "dir"))
    links = {}
    for column, first in FIRST_DIRECTION.items():
        if column == f.sort:
            direction = "asc" if f.descending else "desc"
            arrow = "▼" if f.descending else "▲"
        else:
            direction, arrow = first, ""
        links[column] = {
            "query": urlencode(kept + [("sort", column), ("dir", direction)]),
            "arrow": arrow,
        }
    return links


def kept_query(query: QueryDict, *, drop: tuple[str, ...]) -> list[tuple[str, str]]:
    """The query's parameters but ``drop`` and the empty ones (the form sends every field)."""
    return [
        (name, value)
        for name, values in query.lists()
        if name not in drop
        for value in values
        if value.strip()
    ]


def empty_reason(job, f: EffectFilters, genome: Genome | None, count: int) -> str:
    """Why no row of a finished job passes ``f`` (``count`` rows did: "" unless 0): the first
    of the search, the region and the gene that finds nothing on its own, else the filters
    together. Worked out only for an empty table, so it costs a full one nothing."""
    from genomeweb.jobs.models import JobStatus

    if count or job.status != JobStatus.SUCCEEDED or "q" in f.errors or "region" in f.errors:
        return ""  # rows, no rows yet, or an error that says why
    effects = job.variant_effects.all()
    variants = Variant.objects.filter(effects__in=effects)
    if f.search and not filter_effects(effects, EffectFilters(q=f.q), genome).exists():
        genes = "no gene of that name or ID was scored in it"
        return nothing_found(f.search, "this job", variants, genes=genes)
    if f.located and not filter_effects(effects, EffectFilters(region=f.region), genome).exists():
        return nothing_found(f.located, "this job", variants, genes="")
    if f.gene and not effects.filter(_scored_gene(f.gene)).exists():
        return _no_gene(f.gene, variants)
    return NO_MATCH


def _no_gene(name: str, variants: QuerySet) -> str:
    found = f"No gene named '{name}' was scored in this job"
    if variants.filter(has_ident(name)).exists():
        return f"{found}: '{name}' is a variant's ID; search for it instead."
    return f"{found}."


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
    """A tracks job's parameters. ``unit`` names what its bigWigs hold: jobs from before they
    were written in reads per base lack it, so the page ignores them and predicts again."""
    return {
        "effects_job": str(job.code),
        "effect": effect.pk,
        "tracks": sorted(chosen),
        "unit": COVERAGE_UNIT,
    }


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
            params__unit=COVERAGE_UNIT,
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
    percentile = _matrix_row(job, "percentile.npy", effect)
    if percentile is None or percentile.shape != row.shape:
        percentile = np.full_like(row, np.nan)
    return [
        {
            "track": track,
            "scores": [
                {"value": _nullable(value), "spread": _nullable(sd), "percentile": _nullable(pct)}
                for value, sd, pct in zip(
                    row[t].tolist(), spread[t].tolist(), percentile[t].tolist(), strict=True
                )
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
