"""Bulk inserts with PostgreSQL's COPY: hundreds of thousands of rows a second where the ORM's
``bulk_create`` spends most of its time building model instances and SQL text."""

from collections.abc import Iterable, Sequence

from django.db import connection, models
from psycopg.types.json import Jsonb


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert ``rows`` (values of ``fields``, named as on the model: ``job`` takes the job's
    primary key) into ``model``'s table with one COPY, in the caller's transaction. JSON
    fields take plain dicts and lists. PostgreSQL only: callers keep ``bulk_create`` for
    SQLite."""
    meta = model._meta
    targets = [meta.get_field(name) for name in fields]
    names = ", ".join(connection.ops.quote_name(field.column) for field in targets)
    is_json = [isinstance(field, models.JSONField) for field in targets]
    if any(is_json):
        rows = ([Jsonb(v) if j else v for v, j in zip(row, is_json, strict=True)] for row in rows)
    table = connection.ops.quote_name(meta.db_table)
    connection.ensure_connection()  # the psycopg connection under Django's, in its transaction
    with connection.connection.cursor() as raw:
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def analyze_if_stale(*tables: type[models.Model]) -> None:
    """ANALYZE those of ``tables`` whose planner statistics count less than half their live
    rows (PostgreSQL only; call after the bulk load commits). Autovacuum does this where it is
    on and has caught up; where it is not, a table that grew from nothing within one job is
    planned as nearly empty: with statistics from before a 270k-allele job, the results
    table's gene search read all of the job's rows (0.5-1 s a page while it scored). Once
    the statistics hold real rows, the planner scales them with the table's size, so
    doubling the rows between refreshes is close enough: a job's parts refresh them a
    handful of times (~1 s each at 270k rows)."""
    if connection.vendor != "postgresql":
        return
    names = [table._meta.db_table for table in tables]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.relname = ANY(%s) AND s.n_live_tup > 1000 + 2 * GREATEST(c.reltuples, 0)",
            [names],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
