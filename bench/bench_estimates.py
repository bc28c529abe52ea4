"""Does the scoring form's estimate hold? Real demo jobs of very different sizes, each estimated
as the form does just before it is submitted, then timed from queued to finished; prints JSON.

    .venv/bin/python bench/bench_estimates.py [--sizes 12 51 240]

Runs the demo as ``scripts/demo.sh`` does: the embedded default (SQLite and Celery's filesystem
broker in a temporary GW_VAR_DIR, yeast-demo with its score background) and one real Celery
worker process started here, so the first job's start-up includes the worker loading the model.
Jobs: the first ``n`` records of the demo VCF (up to its 51) and, beyond that, random yeast SNVs
and indels spread over the genome (``bench/make_yeast_vcf.py``), the costly case where few
alleles share a window. The first job is estimated from the model's default cost (no history
yet); each later one from the jobs before it, as on a fresh server.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
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
    worker = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "celery"), "-A", "genomeweb", "worker"]
        + ["-Q", "gpu,maintenance", "-I", "worker.tasks", "--concurrency=1", "-n", "bench@%h"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        for size in args.sizes:
            rows.append(run_one(size))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
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
    from genomeweb.jobs.models import JobKind
    from genomeweb.variants.forms import ScoreForm
    from genomeweb.variants.submit import (
        estimate_pass_cost,
        estimate_passes,
        scoring_params,
        submit_scoring,
        submit_variant_set,
    )
    from genomeweb.workspaces.models import Workspace

    genome = Genome.objects.get(name="sacCer3")
    user = User.objects.get(username="demo")
    variant_set = submit_variant_set(
        workspace=Workspace.objects.filter(memberships__user=user).first(),
        user=user,
        genome=genome,
        name=f"{size} variants",
        upload=SimpleUploadedFile(f"calls-{size}.vcf", vcf_text(size).encode()),
        submission=str(uuid.uuid4()),  # a new upload each time, not a retried one
    )
    wait_for(variant_set.validation_job.pk)
    variant_set.refresh_from_db()
    form = ScoreForm(ScoreForm.defaults(genome), genome=genome)
    assert form.is_valid(), form.errors
    predictor = form.cleaned_data["model"]
    tracks = list(form.chosen_tracks().values_list("identifier", flat=True))
    params = scoring_params(variant_set, form.cleaned_data, tracks)
    passes = estimate_passes(variant_set, predictor, params)
    cost = estimate_pass_cost(variant_set, predictor, params)
    estimate = scoring_cost(Predictor.objects.get(pk=predictor.pk)).estimate(cost)
    job = submit_scoring(variant_set=variant_set, user=user, params=params)
    job = wait_for(job.pk)
    assert job.kind == JobKind.SCORE_VARIANTS and job.status == "succeeded", job.error
    return {
        "records": size,
        "alleles": variant_set.accepted,
        "passes": passes,
        "whole_pass_equivalents": round(cost, 1),
        "estimate_s": round(estimate["seconds"], 1),
        "estimate_text": estimate["text"],
        "basis": estimate["basis"],
        "real_s": round((job.finished_at - job.queued_at).total_seconds(), 1),
    }


def wait_for(job_id: int, timeout_s: float = 1200):
    """The job once the worker has finished it (or failed it)."""
    from genomeweb.jobs.models import Job

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_final:
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} did not finish in {timeout_s} s")


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
