"""Does the scoring form's estimate hold? Real demo jobs of very different sizes, each estimated
as the form does just before it runs, then timed; prints JSON and the ratios.

    .venv/bin/python bench/bench_estimates.py [--sizes 12 51 240]

Runs the embedded default (SQLite in a temporary GW_VAR_DIR, the shipped demo: yeast-demo and
its score background) and executes each job in this process as a worker would
(``worker.tasks.run_job``), so the model load is in every job's start-up only the first time,
as on a warm worker. Jobs: the first ``n`` records of the demo VCF (up to its 51) and, beyond
that, random yeast SNVs and indels spread over the genome (``bench/make_yeast_vcf.py``), the
costly case: few alleles share a window. The first job is estimated from the model's default
cost (no history yet); each later one from the jobs before it, as on a fresh server.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[12, 51, 240])
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ["GW_VAR_DIR"] = tempfile.mkdtemp(prefix="gw-estimates-")
    os.environ.setdefault("GW_SECRET_KEY", "bench-only")
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)  # the embedded default
    os.environ["DJANGO_SETTINGS_MODULE"] = "genomeweb.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    rows = []
    for size in args.sizes:
        rows.append(run_one(size))
        print(json.dumps(rows[-1]), flush=True)
    ratios = [row["estimate_s"] / row["real_s"] for row in rows]
    print(
        json.dumps(
            {
                "jobs": len(rows),
                "estimate_over_real": [round(r, 2) for r in ratios],
                "all_within_2x": all(0.5 <= r <= 2 for r in ratios),
            }
        )
    )


def run_one(size: int) -> dict:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile

    from genomeweb.catalog.models import Genome, Predictor
    from genomeweb.jobs.costs import scoring_cost
    from genomeweb.jobs.models import Job, JobKind
    from genomeweb.variants.forms import ScoreForm
    from genomeweb.variants.submit import (
        estimate_passes,
        scoring_params,
        submit_scoring,
        submit_variant_set,
    )
    from genomeweb.workspaces.models import Workspace
    from worker import tasks

    genome = Genome.objects.get(name="sacCer3")
    user = User.objects.get(username="demo")
    variant_set = submit_variant_set(
        workspace=Workspace.objects.filter(memberships__user=user).first(),
        user=user,
        genome=genome,
        name=f"{size} variants",
        upload=SimpleUploadedFile(f"calls-{size}.vcf", vcf_text(size).encode()),
        submission="",
    )
    tasks.run_job.apply(args=[variant_set.validation_job.pk])
    variant_set.refresh_from_db()
    form = ScoreForm(ScoreForm.defaults(genome), genome=genome)
    assert form.is_valid(), form.errors
    predictor = form.cleaned_data["model"]
    tracks = list(form.chosen_tracks().values_list("identifier", flat=True))
    params = scoring_params(variant_set, form.cleaned_data, tracks)
    passes = estimate_passes(variant_set, predictor, params)
    estimate = scoring_cost(Predictor.objects.get(pk=predictor.pk)).estimate(passes)
    job = submit_scoring(variant_set=variant_set, user=user, params=params)
    began = time.monotonic()
    tasks.run_job.apply(args=[job.pk])
    real = time.monotonic() - began
    job = Job.objects.get(pk=job.pk, kind=JobKind.SCORE_VARIANTS)
    assert job.status == "succeeded", job.error
    queued_to_finished = (job.finished_at - job.queued_at).total_seconds()
    return {
        "records": size,
        "alleles": variant_set.accepted,
        "passes": passes,
        "estimate_s": round(estimate["seconds"], 1),
        "estimate_text": estimate["text"],
        "basis": estimate["basis"],
        "real_s": round(max(real, queued_to_finished), 1),
    }


def vcf_text(size: int) -> str:
    """The demo VCF's first ``size`` records, or beyond 51 random genome-wide ones."""
    demo = (ROOT / "data" / "yeast" / "demo_variants.vcf").read_text().splitlines()
    records = [line for line in demo if not line.startswith("#")]
    if size <= len(records):
        kept = [line for line in demo if line.startswith("#")] + records[:size]
        return "\n".join(kept) + "\n"
    from bench.make_yeast_vcf import GENOME, draw, header
    from engine.io.fasta import Genome

    fasta = Genome(GENOME)
    try:
        return "".join(header(fasta) + draw(fasta, size, seed=7))
    finally:
        fasta.close()


if __name__ == "__main__":
    main()
