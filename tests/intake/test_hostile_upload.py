"""A hostile upload through the whole validation job (web submit, worker task, PostgreSQL):
what the fuzz found in the intake's messages reaches the user as a readable error."""

import uuid
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.io.fasta import Genome
from genomeweb.jobs.models import FailureReason, JobStatus
from genomeweb.variants.submit import submit_variant_set
from tests.intake.mutants import Context, build_mutants
from worker import tasks

JOB_MUTANTS = 60  # each a whole job: the fuzz itself runs 1,600 through the validation call

COLUMNS_WITH_NUL = "#CHROM\t\x00POS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


def test_a_nul_byte_in_the_header_fails_the_job_with_a_message_postgresql_stores(
    workspace, eddie, genome
):
    # The #CHROM line's columns were quoted back in the error, NUL included, and PostgreSQL
    # text cannot hold NUL: the job could not even record why it failed.
    content = f"##fileformat=VCFv4.2\n{COLUMNS_WITH_NUL}\nI\t5\t.\tA\tC\t.\t.\t.\n"
    variant_set = submit_variant_set(
        workspace=workspace,
        user=eddie,
        genome=genome,
        name="hostile",
        upload=SimpleUploadedFile("hostile.vcf", content.encode()),
        submission="0b8f7a52-3c5e-4d0a-9c61-2f4e8a1b7d90",
    )
    tasks.run_job.apply(args=[variant_set.validation_job.pk])
    job = variant_set.validation_job
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == (
        "Line 2 (in the header) contains a NUL byte: this is binary data, not text. "
        "Save the file as plain text."
    )


@pytest.mark.slow
def test_fuzz_mutants_end_as_jobs_that_store_their_alleles_or_say_what_is_wrong(
    workspace, eddie, genome, tmp_path
):
    """The first mutants of the fuzz, moved onto the mini genome, as real uploads: the job's
    store (COPY into PostgreSQL, counts, issues as JSON) must take whatever intake accepts."""
    fasta = Genome(genome.fasta_file)
    mutants = build_mutants(tmp_path, JOB_MUTANTS, Context(fasta))
    fasta.close()
    ends = Counter()
    for mutant in mutants:
        variant_set = submit_variant_set(
            workspace=workspace,
            user=eddie,
            genome=genome,
            name=f"mutant {mutant.number}",
            upload=SimpleUploadedFile(mutant.path.name, mutant.path.read_bytes()),
            submission=uuid.uuid4(),
        )
        tasks.run_job.apply(args=[variant_set.validation_job.pk])
        job = variant_set.validation_job
        job.refresh_from_db()
        variant_set.refresh_from_db()
        ends[job.status] += 1
        if job.status == JobStatus.FAILED:
            assert job.failure_reason == FailureReason.INPUT, (mutant, job.error)
        else:
            assert job.status == JobStatus.SUCCEEDED, mutant
            assert variant_set.variants.count() == variant_set.accepted, mutant
            ends["alleles stored"] += variant_set.accepted
    assert ends[JobStatus.FAILED] > 10 and ends[JobStatus.SUCCEEDED] > 10
    assert ends["alleles stored"] > 100
