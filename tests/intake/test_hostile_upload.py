"""A hostile upload through the whole validation job (web submit, worker task, PostgreSQL):
what the fuzz found in the intake's messages reaches the user as a readable error."""

from django.core.files.uploadedfile import SimpleUploadedFile

from genomeweb.jobs.models import JobStatus
from genomeweb.variants.submit import submit_variant_set
from worker import tasks

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
