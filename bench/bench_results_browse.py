"""How fast a 250,000-allele scoring job browses: the results page's requests, timed; prints JSON.

    .venv/bin/python bench/bench_results_browse.py [--alleles 250000] [--repeats 5]

Builds, in a PostgreSQL database of its own (``genomeweb_bench``, dropped and created again;
``--database-url`` for another server), one finished scoring job over real yeast loci: one
summary row per allele and two gene rows each, as the worker stores them, and marks one
allele in 100 "interesting" and notes one in 500, as a lab's review might. Then it sends the
requests a user's clicks make, through Django's full request cycle (middleware, access check,
templates, htmx fragments), and reports the median wall time of each. Building the rows is
timed too (it is what the worker's storing step costs).
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRACKS = [
    f"stripeseq_S288C_{c}_{r}.{s}"
    for c in ("WT", "diamide")
    for r in (1, 2, 3)
    for s in ("plus", "minus")
]
SCORERS = ["logSED", "SUM", "D2"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alleles", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--reuse", action="store_true", help="time the rows a previous run built (no rebuild)"
    )
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/genomeweb_bench"
    )
    return parser.parse_args()


def fresh_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("GW_VAR_DIR", tempfile.mkdtemp(prefix="gw-bench-"))
    os.environ.setdefault("GW_SECRET_KEY", "bench-only-secret-key")
    os.environ["GW_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "genomeweb.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_job(alleles: int):
    """A finished scoring job with ``alleles`` summary rows and two gene rows per allele."""
    from django.contrib.auth.models import User

    from engine.io.annotation import read_genes
    from genomeweb.catalog.loading import load_genome
    from genomeweb.jobs.models import Job, JobKind, JobStatus
    from genomeweb.variants.models import (
        GeneEffect,
        Mark,
        Variant,
        VariantEffect,
        VariantMark,
        VariantNote,
        VariantSet,
    )
    from genomeweb.workspaces.models import Membership, Role, Workspace

    data = ROOT / "data" / "yeast"
    genome = load_genome("sacCer3", data / "sacCer3.fa.gz", data / "genes_R64.gff3")
    contigs = set(genome.contigs.values_list("name", flat=True))
    genes = [g for g in read_genes(data / "genes_R64.gff3") if g.chrom in contigs]
    user = User.objects.create_user("bench", password="bench")
    workspace = Workspace.objects.create(name="bench", created_by=user)
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    variant_set = VariantSet.objects.create(
        workspace=workspace, genome=genome, name="big", size=0, accepted=alleles
    )
    job = Job.objects.create(
        workspace=workspace,
        created_by=user,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.SUCCEEDED,
        params={
            "variant_set": str(variant_set.code),
            "model": "yeast-demo",
            "tracks": TRACKS,
            "scorers": SCORERS,
            "reverse_complement": True,
            "shifts": [0],
            "replicates": 1,
            "genes": True,
        },
    )
    rng = random.Random(0)
    chosen = (rng.choice(genes) for _ in range(alleles))
    loci = sorted(
        ((g.chrom, max(0, g.tss + rng.randrange(-2000, 2000)), g) for g in chosen),
        key=lambda locus: locus[:2],
    )
    variants = Variant.objects.bulk_create(
        (
            Variant(
                variant_set=variant_set,
                index=i,
                chrom=c,
                start=s,
                ref="A",
                alt="AT" if i % 10 == 0 else "G",
                line=i + 2,
            )
            for i, (c, s, _) in enumerate(loci)
        ),
        batch_size=5000,
    )
    effects, gene_rows = [], []
    for variant, (_, _, gene) in zip(variants, loci, strict=True):
        value = rng.lognormvariate(-4, 1.5) * rng.choice((-1, 1))
        effects.append(
            VariantEffect(
                job=job,
                variant=variant,
                max_abs=abs(value),
                primary=value,
                top_track=rng.choice(TRACKS),
                scorer_max={"logSED": value, "SUM": value * 40, "D2": abs(value) * 3},
                top_gene=gene.gene_id,
                top_gene_name=gene.name,
                top_gene_log_sed=value,
            )
        )
        for track in rng.sample(TRACKS, 2):
            gene_rows.append(
                GeneEffect(
                    job=job,
                    variant=variant,
                    gene_id=gene.gene_id,
                    gene_name=gene.name,
                    track=track,
                    sed=value * 10,
                    log_sed=value,
                )
            )
    VariantEffect.objects.bulk_create(effects, batch_size=5000)
    GeneEffect.objects.bulk_create(gene_rows, batch_size=5000)
    VariantMark.objects.bulk_create(
        VariantMark(variant=v, mark=Mark.INTERESTING, marked_by=user) for v in variants[::100]
    )
    VariantNote.objects.bulk_create(
        VariantNote(variant=v, text="bench", author=user) for v in variants[::500]
    )
    return user, job, genes


def existing_job():
    from django.contrib.auth.models import User

    from engine.io.annotation import read_genes
    from genomeweb.jobs.models import Job

    genes = read_genes(ROOT / "data" / "yeast" / "genes_R64.gff3")
    return User.objects.get(username="bench"), Job.objects.get(workspace__name="bench"), genes


def requests(job, genes) -> dict[str, tuple[str, dict, dict]]:
    """What a user's clicks send: (url, query, headers)."""
    from django.urls import reverse

    url = reverse("gw-effects", kwargs={"code": job.code})
    htmx = {"HTTP_HX_REQUEST": "true"}
    gene = genes[len(genes) // 2].name
    return {
        "first page (sorted by |score|)": (url, {}, {}),
        "next page, htmx fragment": (url, {"page": "2"}, htmx),
        "page 2,000 of 5,000": (url, {"page": "2000"}, htmx),
        "sort by position": (url, {"sort": "position", "dir": "asc"}, htmx),
        "sort by gene": (url, {"sort": "gene"}, htmx),
        f"gene {gene}": (url, {"gene": gene}, htmx),
        "region IV:100,000-400,000": (url, {"region": "IV:100,000-400,000"}, htmx),
        "min |score| 0.1": (url, {"min_abs": "0.1"}, htmx),
        "scorer SUM, min 5": (url, {"scorer": "SUM", "min_abs": "5"}, htmx),
        "track contains diamide": (url, {"track": "diamide"}, htmx),
        "indels only": (url, {"kind": "indel"}, htmx),
        "marked interesting (1 in 100)": (url, {"mark": "interesting"}, htmx),
        "has a note (1 in 500)": (url, {"mark": "note"}, htmx),
    }


def time_requests(user, job, genes, repeats: int) -> dict[str, float]:
    from django.test import Client

    client = Client()
    client.force_login(user)
    timings = {}
    for name, (url, query, headers) in requests(job, genes).items():
        seconds = []
        for _ in range(repeats):
            began = time.perf_counter()
            response = client.get(url, query, **headers)
            seconds.append(time.perf_counter() - began)
            assert response.status_code == 200, (name, response.status_code)
        timings[name] = round(1000 * statistics.median(seconds), 1)
    return timings


def main() -> None:
    args = parse_args()
    if not args.reuse:
        fresh_database(args.database_url)
    setup_django(args.database_url)
    began = time.perf_counter()
    user, job, genes = existing_job() if args.reuse else build_job(args.alleles)
    build_seconds = time.perf_counter() - began
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result = {
        "alleles": args.alleles,
        "gene_rows": 2 * args.alleles,
        "database": connection.vendor,
        "rows_built_seconds": None if args.reuse else round(build_seconds, 1),
        "median_ms_of": args.repeats,
        "requests_ms": time_requests(user, job, genes, args.repeats),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
