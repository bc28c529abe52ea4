"""A variant set scored by the tiny model, as fixtures (registered in tests/conftest.py):
five SNVs, a deletion and an insertion near the mini genome's genes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from engine.io.fasta import Genome
from engine.io.intervals import Interval
from genomeweb.jobs.models import Job, JobKind
from genomeweb.variants.submit import submit_variant_set
from worker import tasks

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def calls_vcf(genome) -> bytes:
    """Five SNVs, a deletion and an insertion near the mini genome's genes, as a VCF."""
    fasta = Genome(genome.fasta_file)
    lines = []
    for pos in (1700, 1750, 1800, 2400, 2450):
        ref = fasta.fetch(Interval("I", pos - 1, pos))
        lines.append(f"I\t{pos}\tsnv{pos}\t{ref}\t{'A' if ref != 'A' else 'G'}\t.\t.\t.")
    deleted = fasta.fetch(Interval("II", 299, 304))
    lines.append(f"II\t300\tdel4\t{deleted}\t{deleted[0]}\t.\t.\t.")
    anchor = fasta.fetch(Interval("II", 399, 400))
    lines.append(f"II\t400\tins3\t{anchor}\t{anchor}GGG\t.\t.\t.")
    return (HEADER + "\n".join(lines) + "\n").encode()


@pytest.fixture
def validated_set(workspace, eddie, genome, tiny_yeast_dir):
    """Five SNVs, a deletion and an insertion near the mini genome's genes, validated."""
    call_command(
        "register_model", "tiny", architecture="yeast", weights=[tiny_yeast_dir], genome="mini"
    )
    content = calls_vcf(genome)
    variant_set = submit_variant_set(
        workspace=workspace,
        user=eddie,
        genome=genome,
        name="calls",
        upload=SimpleUploadedFile("calls.vcf", content),
        submission="a6b9f0a4-0f7e-4f55-8a3c-1c2d3e4f5a6b",
    )
    tasks.run_job.apply(args=[variant_set.validation_job.pk])
    variant_set.refresh_from_db()
    assert variant_set.accepted == 7
    return variant_set


def score_form(**overrides):
    from genomeweb.catalog.models import Predictor

    form = {
        "model": Predictor.objects.get(name="tiny").pk,
        "track_query": "WT",
        "scorers": ["logSED", "SUM", "D2"],
        "reverse_complement": "on",
        "shifts": "0",
        "replicates": "1",
        "genes": "on",
    }
    return form | overrides


@pytest.fixture
def scored(as_user, eddie, validated_set):
    url = reverse("gw-variantset-score", kwargs={"code": validated_set.code})
    as_user(eddie).post(url, score_form())
    job = Job.objects.get(kind=JobKind.SCORE_VARIANTS)
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    return job
