"""How fast the results table of a 250,000-allele scoring job answers, per kind of request:
every sort (both directions, first and far pages), every filter, and searches by ID, gene and
position; prints JSON, and the ratios to an earlier run's JSON with ``--compare``.

    .venv/bin/python bench/bench_table.py [--reuse] [--repeats 7] [--save after.json]
        [--compare before.json] [--database-url postgres://postgres@127.0.0.1:5432/gw_table]

Builds the job as ``bench/bench_load.py`` does (``bench/load_data.py``: the demo plus 250,000
SNV rows, two gene rows each) in a PostgreSQL database of its own, dropped and created again;
``--reuse`` times the rows a previous run built (after migrating, so new indexes are built).
Each request goes through Django's full request cycle (the test client: middleware, access
check, template), one at a time, in this process; the results table as the htmx fragment its
clicks fetch, the API's page as a script's token reads it. The histogram is cached per filter
set for an hour, so the cache is cleared before every request: each is timed as the first
time anyone asks for those filters. ``sql_ms`` is the median of each request's slowest SQL
statement and of all its SQL together.

The tables are vacuumed before timing, as autovacuum does within a minute or so of a job's
rows arriving on a default PostgreSQL (the development server here runs with autovacuum
off): the table's far pages are index-only scans, which read the rows themselves until a
vacuum marks their pages all-visible. ``--no-vacuum`` times them as inserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_data import (  # noqa: E402
    analyze,
    build_big_job,
    demo_scoring_form,
    demo_workspace,
    fresh_database,
    setup_django,
)

TARGET_P95_MS = 300
BIG_SET_NAME = "250k SNVs"  # as bench/load_data.py names it


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alleles", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="time a previous run's rows")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/gw_table")
    parser.add_argument("--save", type=Path, help="write the JSON here too")
    parser.add_argument("--compare", type=Path, help="an earlier run's JSON: print ratios")
    parser.add_argument("--only", default="", help="time only the kinds containing this text")
    parser.add_argument("--no-vacuum", action="store_true", help="ANALYZE only, no VACUUM")
    return parser.parse_args()


def django_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "GW_VAR_DIR": os.environ.get("GW_VAR_DIR") or tempfile.mkdtemp(prefix="gw-table-"),
        "GW_SECRET_KEY": "bench-table-secret-key",
        "GW_ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "genomeweb.settings",
    }


def the_job(reuse: bool, alleles: int):
    """The 250k job: built now, or the one a previous run built."""
    from genomeweb.jobs.models import Job
    from genomeweb.variants.models import VariantSet

    owner, workspace = demo_workspace()
    if reuse:
        variant_set = VariantSet.objects.get(workspace=workspace, name=BIG_SET_NAME)
        job = Job.objects.get(params__variant_set=str(variant_set.code))
        return owner, job
    _, form = demo_scoring_form()
    job, _ = build_big_job(workspace, owner, form, alleles)
    return owner, job


def table_queries(job) -> dict[str, dict]:
    """Each kind of table request and its query string."""
    from genomeweb.variants.models import Variant

    variant = Variant.objects.filter(effects__job=job).order_by("id")[1000]
    gene = job.variant_effects.order_by("id").values_list("top_gene_name", flat=True)[1000]
    locus = f"{variant.chrom}:{variant.start + 1}"
    queries: dict[str, dict] = {"first page": {}, "page 3": {"page": "3"}}
    for sort in ("score", "position", "gene", "track", "percentile"):
        for direction in ("desc", "asc"):
            queries[f"sort {sort} {direction}"] = {"sort": sort, "dir": direction}
            far = {"sort": sort, "dir": direction, "page": "2000"}
            queries[f"sort {sort} {direction}, page 2,000"] = far
    queries |= {
        "last page": {"page": "5000"},
        "sort SUM score, page 2,000": {"scorer": "SUM", "page": "2000"},
        f"gene filter {gene}": {"gene": gene},
        f"gene filter {gene}, by position": {"gene": gene, "sort": "position", "dir": "asc"},
        "gene filter GAL10": {"gene": "GAL10"},
        "region 50 kb": {
            "region": f"{variant.chrom}:{variant.start + 1:,}-{variant.start + 50_000:,}"
        },
        "min |score| 0.1": {"min_abs": "0.1"},
        "min |score| 0.1, page 200": {"min_abs": "0.1", "page": "200"},
        "scorer SUM, min 5": {"scorer": "SUM", "min_abs": "5"},
        "min percentile 99": {"min_pct": "99"},
        "min percentile 99, by position": {"min_pct": "99", "sort": "position", "dir": "asc"},
        "scorer D2, min percentile 90": {"scorer": "D2", "min_pct": "90"},
        "track filter minus": {"track": "minus"},
        "snvs only": {"kind": "snv"},
        "indels only": {"kind": "indel"},
        "marked interesting": {"mark": "interesting"},
        "has a note": {"mark": "note"},
        "histogram bar": {"primary_from": "0.01", "primary_to": "0.05"},
        "search gene GAL10": {"q": "GAL10"},
        f"search gene {gene}, page 2": {"q": gene, "page": "2"},
        "search ID rs12345": {"q": "rs12345"},
        "search unknown name": {"q": "NOSUCHNAME"},
        f"search position {locus}": {"q": locus},
        "search allele": {"q": f"{locus} {variant.ref}>{variant.alt}"},
        "search region": {"q": f"{variant.chrom}:{variant.start + 1}-{variant.start + 20_000}"},
        "search contig": {"q": variant.chrom},
        "search contig chrIV (the largest)": {"q": "chrIV"},
    }
    return queries


class SqlLog:
    """The duration of each SQL statement run inside ``with connection.execute_wrapper``."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds.append(time.perf_counter() - began)


def time_request(client, url: str, query: dict, headers: dict) -> tuple[float, float, float]:
    """(request ms, slowest statement ms, all SQL ms), the cache emptied first."""
    from django.core.cache import cache
    from django.db import connection

    cache.clear()
    log = SqlLog()
    with connection.execute_wrapper(log):
        began = time.perf_counter()
        response = client.get(url, query, **headers)
        elapsed = time.perf_counter() - began
    assert response.status_code == 200, (url, query, response.status_code)
    return 1000 * elapsed, 1000 * max(log.seconds, default=0), 1000 * sum(log.seconds)


def summary(samples: list[tuple[float, float, float]]) -> dict:
    total = sorted(s[0] for s in samples)
    p95 = total[min(len(total) - 1, round(0.95 * (len(total) - 1)))]
    return {
        "p50_ms": round(statistics.median(total), 1),
        "p95_ms": round(p95, 1),
        "sql_ms": {
            "slowest": round(statistics.median(s[1] for s in samples), 1),
            "all": round(statistics.median(s[2] for s in samples), 1),
        },
    }


def requests(owner, job) -> dict[str, tuple[str, dict, dict]]:
    """(url, query, headers) of each request kind: the table's fragment, the API, the BED."""
    from django.urls import reverse

    from genomeweb.api.models import ApiToken

    table = reverse("gw-effects", kwargs={"code": job.code})
    fragment = {"HTTP_HX_REQUEST": "true"}
    found = {name: (table, query, fragment) for name, query in table_queries(job).items()}
    found["full page"] = (table, {}, {})
    token = ApiToken.issue(owner, "bench table")[1]
    api = f"/api/v1/jobs/{job.code}/results"
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    found["api page 1"] = (api, {}, bearer)
    found["api position, page 2,000"] = (api, {"sort": "position", "page": "2000"}, bearer)
    found["top-hits BED (10,000 rows)"] = (reverse("gw-effects-bed", args=[job.code]), {}, {})
    return found


def time_all(owner, job, repeats: int, only: str) -> dict[str, dict]:
    from django.test import Client

    client = Client()
    client.force_login(owner)
    timed = {}
    for name, (url, query, headers) in requests(owner, job).items():
        if only not in name:
            continue
        time_request(client, url, query, headers)  # warm: the first run reads pages into memory
        samples = [time_request(client, url, query, headers) for _ in range(repeats)]
        timed[name] = summary(samples)
        print(f"{name}: {timed[name]}", file=sys.stderr)
    return timed


def ratios(before: dict, after: dict) -> dict[str, dict]:
    """Per request kind: before and after p95, and how many times faster."""
    return {
        name: {
            "before_p95_ms": before[name]["p95_ms"],
            "after_p95_ms": timing["p95_ms"],
            "times_faster": round(before[name]["p95_ms"] / timing["p95_ms"], 1),
        }
        for name, timing in after.items()
        if name in before
    }


def main() -> None:
    args = parse_args()
    if not args.reuse:
        fresh_database(args.database_url)
    setup_django(django_env(args.database_url), load_demo=not args.reuse)
    began = time.perf_counter()
    owner, job = the_job(args.reuse, args.alleles)
    built_seconds = time.perf_counter() - began
    analyze(vacuum=not args.no_vacuum)
    timed = time_all(owner, job, args.repeats, args.only)
    table = [name for name in timed if not name.startswith(("api", "top-hits"))]
    result = {
        "alleles": job.variant_effects.count(),
        "rows_built_s": None if args.reuse else round(built_seconds),
        "repeats": args.repeats,
        "load_average": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "vacuumed": not args.no_vacuum,
        "requests": timed,
        "table_p95_over_target": [n for n in table if timed[n]["p95_ms"] >= TARGET_P95_MS],
    }
    if args.compare:
        result["compared"] = ratios(json.loads(args.compare.read_text())["requests"], timed)
    text = json.dumps(result, indent=2)
    if args.save:
        args.save.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
