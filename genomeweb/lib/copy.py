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
