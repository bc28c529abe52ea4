# Written by hand: PostgreSQL's indexes on each scorer's values in the JSON summaries, for the
# results table once a member picks a scorer other than the primary one.

from django.db import migrations

# engine.variants.scorers.VARIANT_SCORERS when this was written (a migration must not change
# with the code; tests/variants/test_scorer_indexes.py checks a new scorer gets its index).
SCORERS = ("SUM", "logSUM", "logSED", "D1", "D2", "logD1", "logD2", "SAX", "JS")


def scorer_indexes(scorer: str) -> dict[str, tuple[str, str]]:
    """name -> (JSON column, indexed expression), as genomeweb.variants.table writes them."""
    value = f"(scorer_max ->> '{scorer}')::double precision"
    percentile = f"(scorer_pct ->> '{scorer}')::double precision"
    return {
        f"effect_{scorer.lower()}_abs": ("scorer_max", f"abs({value})"),
        f"effect_{scorer.lower()}_pct": ("scorer_pct", f"({percentile})"),
    }


def add_scorer_indexes(apps, schema_editor):
    """Per scorer, its |value| and its percentile, strongest first, ties by variant id (the
    table's order), each with its statistics so the planner knows how few rows pass a
    filter. Partial: a row holds only its job's scorers (``scorer_max ? 'SUM'``), so a job
    pays for the indexes of the scorers it chose and no others."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for scorer in SCORERS:
        for name, (column, expression) in scorer_indexes(scorer).items():
            schema_editor.execute(
                f"CREATE INDEX {name} ON variants_varianteffect "
                f"(job_id, {expression} DESC NULLS LAST, variant_id) "
                f"WHERE {column} ? '{scorer}'"
            )
            schema_editor.execute(
                f"CREATE STATISTICS {name}_stats ON ({expression}) FROM variants_varianteffect"
            )


def drop_scorer_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for scorer in SCORERS:
        for name in scorer_indexes(scorer):
            schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}_stats")
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("variants", "0011_snv_filter_index"),
    ]

    operations = [
        migrations.RunPython(add_scorer_indexes, drop_scorer_indexes),
    ]
