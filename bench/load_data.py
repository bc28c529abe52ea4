"""The load benchmarks' database: the demo and a finished 250,000-allele scoring job of
yeast-demo in the "Demo lab" workspace, built directly with the ORM.

250,000 SNVs at real positions and reference bases near gene starts, one VariantEffect row each
and two GeneEffect rows (scores drawn, log-normal, for the model's real tracks and the form's
default scorers); one allele in 100 is marked "interesting" and one in 500 has a note. Scoring
250,000 alleles with the demo model would take hours on a small machine; the table, filters,
sorts and counts only see rows, so rows are what is built. ``bench/bench_load.py`` and
``bench/bench_table.py`` share it. Django must be configured (``setup_django``) before the
builders run.
"""

from __future__ import annotations

import io
import math
import os
import random


def fresh_database(url: str) -> None:
    """Drop and create the database of ``url`` (its connections are closed first)."""
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(env: dict[str, str], *, load_demo: bool = True) -> None:
    """Configure Django from ``env``, migrate, and load the demo (genome, model, workspace)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if load_demo:
        call_command("load_demo", stdout=io.StringIO())


def demo_scoring_form():
    """The scoring form of the demo genome with its defaults, validated."""
    from genomeweb.catalog.models import Genome
    from genomeweb.variants.forms import ScoreForm

    genome = Genome.objects.get(name="sacCer3")
    defaults = ScoreForm.defaults(genome)
    form = ScoreForm(defaults, genome=genome)
    assert form.is_valid(), form.errors
    return defaults, form


def demo_workspace():
    """The demo's owner and its "Demo lab" workspace."""
    from django.contrib.auth.models import User

    from genomeweb.workspaces.models import Workspace

    owner = User.objects.get(username="demo")
    return owner, Workspace.objects.get(name="Demo lab", memberships__user=owner)


def build_big_job(workspace, owner, form, alleles: int):
    """A finished scoring job of ``alleles`` SNVs near gene starts (rows only, see above)."""
    from genomeweb.jobs.models import Job, JobKind, JobStatus
    from genomeweb.variants.models import Mark, Variant, VariantMark, VariantNote, VariantSet
    from genomeweb.variants.submit import scoring_params

    rng = random.Random(0)
    genome = form.cleaned_data["model"].genome
    drawn = draw_snvs(genome, alleles, rng)
    variant_set = VariantSet.objects.create(
        workspace=workspace, genome=genome, name="250k SNVs", size=0, accepted=alleles
    )
    tracks = list(form.chosen_tracks().values_list("identifier", flat=True))
    job = Job.objects.create(
        workspace=workspace,
        created_by=owner,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.SUCCEEDED,
        params=scoring_params(variant_set, form.cleaned_data, tracks),
    )
    Job.objects.filter(pk=job.pk).update(
        started_at=job.queued_at,
        finished_at=job.queued_at,
        summary={"alleles": alleles, "unscored": 0},  # as the worker records a finished job
    )
    variants = Variant.objects.bulk_create(
        (
            Variant(variant_set=variant_set, index=i, chrom=c, start=s, ref=r, alt=a, line=i + 2)
            for i, (c, s, r, a, _) in enumerate(drawn)
        ),
        batch_size=5000,
    )
    store_effects(job, variants, [gene for *_, gene in drawn], tracks, rng)
    VariantMark.objects.bulk_create(
        VariantMark(variant=v, mark=Mark.INTERESTING, marked_by=owner) for v in variants[::100]
    )
    VariantNote.objects.bulk_create(
        VariantNote(variant=v, text="check", author=owner) for v in variants[::500]
    )
    return job, variant_set


def draw_snvs(genome, alleles: int, rng: random.Random) -> list[tuple]:
    """(chrom, start, ref, alt, gene) of distinct SNVs within 1.5 kb upstream of gene starts
    (where the model's STRIPE-seq signal is), with the genome's own reference bases, sorted."""
    from engine.io.fasta import Genome as Fasta
    from engine.io.intervals import Interval

    genes = list(genome.genes.values_list("chrom", "start", "end", "strand", "gene_id", "name"))
    fasta = Fasta(genome.fasta_file)
    try:
        sequences = {
            chrom: fasta.fetch(Interval(chrom, 0, length)).upper()
            for chrom, length in fasta.contig_lengths.items()
        }
    finally:
        fasta.close()
    chosen: dict[tuple[str, int], tuple] = {}
    while len(chosen) < alleles:
        chrom, start, end, strand, gene_id, name = rng.choice(genes)
        tss = start if strand == "+" else end - 1
        pos = tss + (rng.randrange(-1500, 50) if strand == "+" else rng.randrange(-50, 1500))
        ref = sequences[chrom][pos] if 0 <= pos < len(sequences[chrom]) else "N"
        if ref in "ACGT":
            alt = rng.choice([base for base in "ACGT" if base != ref])
            chosen[(chrom, pos)] = (chrom, pos, ref, alt, (gene_id, name))
    return [chosen[key] for key in sorted(chosen)]


def store_effects(job, variants, genes, tracks: list[str], rng: random.Random) -> None:
    """One summary row per allele, as the worker stores them, and two gene rows each."""
    from genomeweb.variants.models import GeneEffect, VariantEffect

    scorers = job.params["scorers"]
    effects, gene_rows = [], []
    for variant, (gene_id, name) in zip(variants, genes, strict=True):
        value = rng.lognormvariate(-4, 1.5) * rng.choice((-1, 1))
        track = rng.choice(tracks)
        scores = {s: value * {"SUM": 40, "D2": 3}.get(s, 1) for s in scorers}
        pct = round(100 * (1 - math.exp(-abs(value) / 0.03)), 2)  # stronger: rarer by chance
        effects.append(
            VariantEffect(
                job=job,
                variant=variant,
                max_abs=abs(value),
                primary=value,
                top_track=track,
                top_track_scores=scores,
                scorer_max=scores,
                scorer_track=dict.fromkeys(scorers, track),
                top_gene=gene_id,
                top_gene_name=name,
                top_gene_log_sed=value,
                primary_pct=pct,
                beyond_noise=pct > 95,
                top_track_pct=dict.fromkeys(scorers, pct),
                scorer_pct=dict.fromkeys(scorers, pct),
            )
        )
        gene_rows += [
            GeneEffect(
                job=job,
                variant=variant,
                gene_id=gene_id,
                gene_name=name,
                track=t,
                sed=value * 10,
                log_sed=value,
            )
            for t in rng.sample(tracks, 2)
        ]
    VariantEffect.objects.bulk_create(effects, batch_size=5000)
    GeneEffect.objects.bulk_create(gene_rows, batch_size=5000)


def analyze(vacuum: bool = True) -> None:
    """What autovacuum does within a minute or so of a job's rows arriving on a default
    PostgreSQL (the development server here runs without it): statistics, and with ``vacuum``
    the visibility map that lets far pages of the table be read from their indexes alone."""
    from django.db import connection

    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
