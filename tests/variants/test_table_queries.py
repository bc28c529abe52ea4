"""The results table's fast queries give what a straightforward reading of the filters gives.

A page is chosen by variant id on the effect rows alone, then fetched (``SortedRows``); a
search that may name a gene is the union of the ID or place matches and the gene matches; an
unfiltered finished job is counted from its summary. Each is checked, for every sort in both
directions and every kind of filter, against rows filtered and sorted here in Python, on a
job with ties in every sort key, unscored and uncalibrated rows, and pages of 7 rows that
split the ties, so a page that skipped or repeated a row would show.
"""

import importlib
import random
import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import (
    GeneEffect,
    Mark,
    Variant,
    VariantEffect,
    VariantMark,
    VariantNote,
)
from genomeweb.variants.table import job_rows, paginate, sort_effects

scorer_indexes_migration = importlib.import_module(
    "genomeweb.variants.migrations.0012_scorer_indexes"
)

ROWS = 240
PER_PAGE = 7  # pages end inside runs of tied values
SORTS = ("score", "position", "gene", "track", "percentile")


def alleles(i: int) -> tuple[str, str]:
    """SNVs, deletions, insertions and a few MNVs (neither SNV nor indel)."""
    if i % 11 == 0:
        return "AC", "A"
    if i % 13 == 0:
        return "A", "AT"
    if i % 17 == 0:
        return "AC", "GT"
    return "A", "G"


def ident(i: int) -> str:
    if i == 30:
        return "GAL2"  # also the name of a gene scored near other alleles
    if i == 40:
        return "rs40;GAL3"  # a VCF list of IDs
    return f"rs{i}" if i % 9 == 0 else ""


def effect(job: Job, variant: Variant, i: int, rng: random.Random) -> VariantEffect:
    """Few distinct values per column, so every sort has long runs of ties."""
    value = None if i % 23 == 5 else rng.choice([0.1, 0.2, 0.2, 0.5, 0.7, 1.0])
    primary = None if value is None else value * rng.choice((-1, 1))
    pct = None if i % 19 == 3 else rng.choice([10.0, 50.0, 99.0, 99.5])
    summed = rng.choice([-3.0, -1.0, 1.0, 3.0, None])
    return VariantEffect(
        job=job,
        variant=variant,
        max_abs=value,
        primary=primary,
        primary_pct=pct,
        top_gene_name=f"GENE{i % 6}",
        top_track=f"t{i % 4}_{'minus' if i % 2 else 'plus'}",
        # Every scorer of the job on every row, null where unscored, as the worker stores them.
        scorer_max={"logSED": primary, "SUM": summed},
        scorer_track={"logSED": "t0_plus", "SUM": "t1_minus"},
        scorer_pct={"logSED": pct, "SUM": rng.choice([None, 5.0, 95.0])},
    )


@pytest.fixture
def table_job(variant_set, alice):
    """A finished scoring job of ROWS alleles on contigs I and II (a job of the same set
    scores a gene GAL9 that this one did not)."""
    rng = random.Random(7)
    make = dict(workspace=variant_set.workspace, created_by=alice, kind=JobKind.SCORE_VARIANTS)
    params = {
        "variant_set": str(variant_set.code),
        "scorers": ["logSED", "SUM"],
        "tracks": [f"t{k}_{strand}" for k in range(4) for strand in ("plus", "minus")],
    }
    job = Job.objects.create(**make, status=JobStatus.SUCCEEDED, params=params)
    other = Job.objects.create(**make, status=JobStatus.SUCCEEDED, params=params)
    variant_set.variants.all().delete()  # the fixture's one variant
    variants = Variant.objects.bulk_create(
        Variant(
            variant_set=variant_set,
            index=i,
            chrom="I" if i < 160 else "II",
            start=5 * (i if i < 160 else i - 160),
            ref=alleles(i)[0],
            alt=alleles(i)[1],
            ident=ident(i),
            line=i + 3,
        )
        for i in range(ROWS)
    )
    VariantEffect.objects.bulk_create(effect(job, v, i, rng) for i, v in enumerate(variants))
    scored = {"track": "t0_plus", "sed": 0, "log_sed": 0}
    genes = [
        GeneEffect(job=job, variant=v, gene_id=f"Y{i % 5}", gene_name=f"GAL{i % 5}", **scored)
        for i, v in enumerate(variants)
        for _ in range(1 + i % 2)  # now and then two rows of one gene (two tracks)
    ]
    genes += [
        GeneEffect(job=other, variant=v, gene_id="Y9", gene_name="GAL9", **scored) for v in variants
    ]
    GeneEffect.objects.bulk_create(genes)
    VariantMark.objects.bulk_create(
        VariantMark(variant=v, mark=Mark.INTERESTING) for v in variants[::10]
    )
    VariantNote.objects.bulk_create(VariantNote(variant=v, text="n") for v in variants[::25])
    Job.objects.filter(pk=job.pk).update(summary={"alleles": ROWS, "unscored": 0})
    job.refresh_from_db()
    return job


# --- the reference: every row read, filtered and sorted here ---------------------------------


def reference_rows(job: Job, query: dict) -> list[int]:
    """The variant ids the table should list for ``query``, in order."""
    filters = dict(query)
    scorer = filters.pop("scorer", "")
    sort, descending = filters.pop("sort", "score"), filters.pop("dir", "desc") != "asc"
    rows = [
        row
        for row in job.variant_effects.select_related("variant")
        if all(passes(row, job, name, value, scorer) for name, value in filters.items())
    ]
    return [row.variant_id for row in ordered(rows, sort, descending, scorer)]


def score(row: VariantEffect, scorer: str) -> float | None:
    if not scorer:
        return row.max_abs
    value = row.scorer_max.get(scorer)
    return None if value is None else abs(value)


def percentile(row: VariantEffect, scorer: str) -> float | None:
    return row.scorer_pct.get(scorer) if scorer else row.primary_pct


def ordered(rows: list, sort: str, descending: bool, scorer: str) -> list:
    """Values in the direction asked, nulls last either way, ties by variant id."""
    key = {
        "score": lambda row: score(row, scorer),
        "percentile": lambda row: percentile(row, scorer),
        "position": lambda row: row.variant_id,
        "gene": lambda row: row.top_gene_name,
        "track": lambda row: row.top_track,
    }[sort]
    valued = [row for row in rows if key(row) is not None]
    by_id = sorted(valued, key=lambda row: row.variant_id)
    by_value = sorted(by_id, key=key, reverse=descending)  # stable: ties stay by id
    return by_value + sorted((r for r in rows if key(r) is None), key=lambda r: r.variant_id)


def named(variant: Variant, text: str) -> bool:
    """The variant's ID is ``text`` in any case, alone or in a list of IDs."""
    return text.upper() in variant.ident.upper().split(";")


def scored_gene(job: Job, variant: Variant, text: str) -> bool:
    genes = GeneEffect.objects.filter(job=job, variant=variant)
    return any(text.upper() in (g.gene_name.upper(), g.gene_id.upper()) for g in genes)


def searched(job: Job, variant: Variant, text: str) -> bool:
    """What the search box finds for the texts the tests type."""
    if text.startswith(("I:", "II:")):
        chrom, place = text.split(":")
        first, _, last = place.partition("-")
        start, end = int(first) - 1, int(last or first)
        at = variant.chrom == chrom and start <= variant.start < end
        return at or named(variant, text)
    if text in ("chrI", "chrII"):
        return variant.chrom == text[3:] or named(variant, text) or scored_gene(job, variant, text)
    if text.startswith("rs"):
        return named(variant, text)
    return named(variant, text) or scored_gene(job, variant, text)


def passes(row: VariantEffect, job: Job, name: str, value: str, scorer: str) -> bool:
    variant = row.variant
    if name == "q":
        return searched(job, variant, value)
    if name == "gene":
        return scored_gene(job, variant, value)
    if name == "region":
        return variant.chrom == value
    if name in ("min_abs", "min_pct"):
        found = score(row, scorer) if name == "min_abs" else percentile(row, scorer)
        return found is not None and found >= float(value)
    if name == "primary_from":
        return row.primary is not None and row.primary >= float(value)
    if name == "primary_to":
        return row.primary is not None and row.primary < float(value)
    if name == "track":
        return value.lower() in row.top_track.lower()
    if name == "kind":
        snv = len(variant.ref) == len(variant.alt) == 1
        return snv if value == "snv" else len(variant.ref) != len(variant.alt)
    if name == "mark":
        if value == "note":
            return variant.notes.exists()
        return variant.marks.filter(mark=value).exists()
    raise AssertionError(f"no reference for the filter {name}")


# --- the table's queries, page by page -------------------------------------------------------


def paged_rows(job: Job, query: dict) -> tuple[int, list[int]]:
    """The table's count and the variant ids of all its pages, each fetched on its own."""
    filters, variant_set, rows = job_rows(job, as_query(query))
    first = paginate(job, variant_set, rows, filters, 1, PER_PAGE)
    shown = [row.variant_id for row in first]
    for number in first.paginator.page_range[1:]:
        page = paginate(job, variant_set, rows, filters, number, PER_PAGE)
        shown += [row.variant_id for row in page]
    return first.paginator.count, shown


def as_query(query: dict) -> QueryDict:
    found = QueryDict(mutable=True)
    found.update(query)
    return found


FILTERS = [
    {},
    {"min_abs": "0.5"},
    {"min_pct": "99"},
    {"gene": "gal2"},  # a gene scored near the variant, by name in any case
    {"gene": "Y3"},  # or by ID
    {"q": "GAL2"},  # a gene's name and one variant's ID
    {"q": "gal3"},  # a gene's name and an ID in a list of IDs
    {"q": "GAL9"},  # scored by another job only
    {"q": "rs18"},
    {"q": "I:71"},
    {"q": "I:100-500"},
    {"q": "chrII"},  # a contig, by its alias
    {"region": "II"},
    {"mark": "interesting"},
    {"mark": "note"},
    {"kind": "indel"},
    {"kind": "snv"},
    {"track": "MINUS"},
    # Histogram bars: across zero, above it, below it, and the open-ended outer bars.
    {"primary_from": "-0.2", "primary_to": "0.6"},
    {"primary_from": "0.2", "primary_to": "0.7"},
    {"primary_from": "-0.7", "primary_to": "-0.1"},
    {"primary_to": "-0.2"},
    {"primary_from": "0.5"},
    {"track": "minus", "scorer": "SUM", "min_pct": "90"},
    {"scorer": "SUM"},  # sorted by a scorer's values in JSON
    {"scorer": "SUM", "min_abs": "1", "min_pct": "50"},
    {"q": "GAL4", "min_abs": "0.2", "kind": "snv"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "&".join(map("=".join, f.items())))
def test_every_sort_and_page_lists_the_rows_the_filters_find(table_job, filters):
    for sort in SORTS:
        for direction in ("desc", "asc"):
            query = filters | {"sort": sort, "dir": direction}
            expected = reference_rows(table_job, query)
            count, shown = paged_rows(table_job, query)
            assert shown == expected, query
            assert count == len(expected), query


def test_the_job_has_ties_nulls_and_matches_for_every_filter(table_job):
    """Without them the comparison above would prove little."""
    rows = list(table_job.variant_effects.all())
    for column in ("max_abs", "primary_pct", "top_gene_name", "top_track"):
        values = [getattr(row, column) for row in rows]
        assert len(set(values)) < len(values) / 10, column
    assert None in {row.max_abs for row in rows} and None in {row.primary_pct for row in rows}
    for filters in FILTERS[1:]:
        assert bool(reference_rows(table_job, filters)) == (filters != {"q": "GAL9"}), filters


def test_an_unfiltered_finished_job_is_counted_from_its_summary(table_job):
    filters, variant_set, rows = job_rows(table_job, as_query({"sort": "gene"}))
    with CaptureQueriesContext(connection) as queries:
        page = paginate(table_job, variant_set, rows, filters, 3, PER_PAGE)
        assert page.paginator.count == ROWS
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)


def counts(captured: CaptureQueriesContext) -> int:
    return sum("COUNT(" in q["sql"] for q in captured.captured_queries)


def test_a_finished_jobs_filtered_count_is_counted_once_per_filter_set(table_job):
    """Its rows never change: page 2 of a filter set, or another member's same filters, are
    not counted again; other filters are."""
    query = as_query({"scorer": "SUM", "min_abs": "1"})
    filters, variant_set, rows = job_rows(table_job, query)
    expected = len(reference_rows(table_job, query.dict()))
    with CaptureQueriesContext(connection) as first:
        assert paginate(table_job, variant_set, rows, filters, 1, PER_PAGE).paginator.count == (
            expected
        )
    with CaptureQueriesContext(connection) as again:
        assert paginate(table_job, variant_set, rows, filters, 2, PER_PAGE).paginator.count == (
            expected
        )
    other = as_query({"scorer": "SUM", "min_abs": "2"})
    filters, variant_set, rows = job_rows(table_job, other)
    with CaptureQueriesContext(connection) as narrower:
        paginate(table_job, variant_set, rows, filters, 1, PER_PAGE)
    assert (counts(first), counts(again), counts(narrower)) == (1, 0, 1)


def test_a_cached_count_of_marked_rows_follows_the_marks(table_job, alice):
    query = as_query({"mark": "follow_up"})

    def marked() -> int:
        table_job.refresh_from_db()
        filters, variant_set, rows = job_rows(table_job, query)
        return paginate(table_job, variant_set, rows, filters, 1, PER_PAGE).paginator.count

    before = marked()
    variant = table_job.variant_effects.order_by("variant_id").first().variant
    variant.set_mark(Mark.FOLLOW_UP, user=alice, on=True)
    assert marked() == before + 1
    variant.set_mark(Mark.FOLLOW_UP, user=alice, on=False)
    assert marked() == before


@pytest.mark.parametrize("status", [JobStatus.RUNNING, JobStatus.FAILED])
def test_an_unfinished_job_counts_its_rows(table_job, status):
    """A running job's rows are those of its finished parts; its summary is not yet there."""
    Job.objects.filter(pk=table_job.pk).update(status=status, summary={"alleles": 5})
    table_job.refresh_from_db()
    filters, variant_set, rows = job_rows(table_job, as_query({}))
    assert paginate(table_job, variant_set, rows, filters, 1).paginator.count == ROWS


def test_a_page_is_chosen_on_the_effect_rows_alone(table_job):
    """Sorting the rows joined to their variants sorted all of a big job's rows on disk."""
    filters, variant_set, rows = job_rows(table_job, as_query({"sort": "track"}))
    with CaptureQueriesContext(connection) as queries:
        list(paginate(table_job, variant_set, rows, filters, 4, PER_PAGE))
    paged = [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"]]
    assert len(paged) == 1 and '"variants_variant"' not in paged[0]


def test_a_scored_jobs_summary_counts_every_row_it_stored(scored):
    """Alleles the model could not score have rows too: the summary's count is the rows'."""
    filters, variant_set, rows = job_rows(scored, as_query({}))
    page = paginate(scored, variant_set, rows, filters, 1)
    assert page.paginator.count == scored.summary["alleles"] == scored.variant_effects.count()
    assert len(page) == 7


# --- PostgreSQL's indexes can answer them: an expression that differs from the index's by a cast
# or a quote, or a missing partial-index condition, would silently read every row again. On a
# few hundred rows the planner rightly scans, so the plan's own text of each condition is
# compared with the index's definition (PostgreSQL writes both with the same deparser). ---------


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def index_parts(name: str) -> tuple[str, str]:
    """(its expression, its partial-index condition) as pg_get_indexdef writes them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [name])
        definition = cursor.fetchone()[0]
    columns, condition = re.fullmatch(r".*USING btree \((.*)\) WHERE (.*)", definition).groups()
    expression = re.fullmatch(r"job_id, (.*) DESC NULLS LAST, variant_id", columns).group(1)
    return unwrapped(expression), condition


def unwrapped(expression: str) -> str:
    """Without the parentheses an index definition puts around an expression that is not a
    function call, when they hold all of it."""
    depth = 0
    for i, char in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            whole = i == len(expression) - 1
            return expression[1:-1] if whole and expression[0] == "(" else expression
    return expression


def sorted_page_ids(job: Job, query: dict):
    filters, _, rows = job_rows(job, as_query(query))
    return sort_effects(rows, filters).values_list("variant_id", flat=True)[:50]


def test_every_scorer_a_user_can_pick_has_its_indexes():
    from engine.variants.scorers import VARIANT_SCORERS

    assert set(scorer_indexes_migration.SCORERS) == set(VARIANT_SCORERS)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes (0012)")
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ({"scorer": "SUM", "min_abs": "1", "sort": "score"}, "effect_sum_abs"),
        ({"scorer": "SUM", "min_pct": "90", "sort": "percentile"}, "effect_sum_pct"),
    ],
)
def test_a_chosen_scorers_filter_and_order_match_its_index(table_job, query, index):
    expression, condition = index_parts(index)
    found = plan(sorted_page_ids(table_job, query))
    if f"Index Scan using {index}" in found and "Sort Key" not in found:
        return  # the planner took it: once the statistics say the job is big (whole suite)
    threshold = query.get("min_abs") or query.get("min_pct")
    assert f"{expression} >= '{threshold}'" in found
    assert f"Sort Key: ({expression}) DESC NULLS LAST, variant_id" in found
    assert condition in found


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes (0008)")
def test_a_histogram_bar_bounds_the_score_its_rows_are_sorted_by(table_job):
    found = plan(sorted_page_ids(table_job, {"primary_from": "0.2", "primary_to": "0.6"}))
    assert "max_abs >= '0.2'" in found and "max_abs <= '0.6'" in found


def test_a_gene_filter_finds_the_genes_variants_before_the_page(table_job):
    """As a condition on each row (EXISTS, or an IN that PostgreSQL flattens into the same
    semi-join) a 270k-allele job's page took 1.3-2 s: the planner walked the job in score
    order testing rows against the gene rows. A UNION is computed first, then paged (2-5 ms);
    on the few rows here either plan is quick, so the query's form is what is checked."""
    sql = str(sorted_page_ids(table_job, {"gene": "gal2"}).query)
    before_the_set, the_set = sql.split(" IN (", 1)
    assert "EXISTS" not in before_the_set and "UNION" in the_set
