"""genomeweb.lib.copy.analyze_if_stale on PostgreSQL: a table that outgrew its planner
statistics gets them refreshed, one whose statistics hold its rows is left alone."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from genomeweb.lib.copy import analyze_if_stale
from genomeweb.variants.models import Variant

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the statistics count committed rows only
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics"),
]

ROWS = 3000


def planned_rows() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'variants_variant'")
        return cursor.fetchone()[0]


def counted_now() -> None:
    """This backend's row counts into the shared statistics (else flushed within a second)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # a round trip: the flush happens while the backend idles


def analyzes(tables) -> int:
    with CaptureQueriesContext(connection) as queries:
        analyze_if_stale(*tables)
    return sum(query["sql"].startswith("ANALYZE") for query in queries.captured_queries)


def add_variants(variant_set, first: int) -> None:
    Variant.objects.bulk_create(
        Variant(variant_set=variant_set, index=i, chrom="I", start=i, ref="A", alt="C", line=i)
        for i in range(first, first + ROWS)
    )


def test_a_table_that_outgrew_its_statistics_is_analyzed_once(variant_set):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE variants_variant")  # statistics of the table nearly empty
    assert planned_rows() < ROWS
    add_variants(variant_set, 10)
    counted_now()
    assert analyzes([Variant]) == 1
    assert planned_rows() >= ROWS
    counted_now()
    assert analyzes([Variant]) == 0  # its statistics hold its rows now


def test_a_table_within_twice_its_statistics_is_left_alone(variant_set):
    add_variants(variant_set, 10)
    counted_now()  # else counted again on top of what ANALYZE finds
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE variants_variant")
    add_variants(variant_set, 10 + ROWS)  # now twice what its statistics say, not more
    counted_now()
    assert analyzes([Variant]) == 0
