"""worker.tasks called as plain functions (no broker): what each outcome leaves on the Job row."""

import gzip
from pathlib import Path
from unittest import mock

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.io.files import sha256_file
from genomeweb.jobs.models import Job, JobStatus
from genomeweb.variants.submit import submit_variant_set
from worker import tasks
from worker.errors import JobCancelled

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.fixture(autouse=True)
def no_broker():
    with mock.patch("genomeweb.jobs.enqueue.app.send_task", autospec=True):
        yield


def submit(workspace, user, genome, content: bytes, name="calls.vcf"):
    return submit_variant_set(
        workspace=workspace,
        user=user,
        genome=genome,
        name="",
        upload=SimpleUploadedFile(name, content),
        submission="3b7e2c4d-7c1f-4f0e-9a51-1d2f3c4b5a69",
    )


def run(job: Job) -> Job:
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    return job


def other_base(base: str) -> str:
    return "A" if base != "A" else "C"


def mini_vcf(genome) -> bytes:
    """One good SNV spelled chrI, one REF mismatch (line 4), one POS past the contig (line 5)."""
    from engine.io.fasta import Genome as Fasta
    from engine.io.intervals import Interval

    fasta = Fasta(genome.fasta_file)
    ref_100 = fasta.fetch(Interval("I", 99, 100))
    wrong_200 = other_base(fasta.fetch(Interval("I", 199, 200)))
    records = [
        f"chrI\t100\tok\t{ref_100}\t{other_base(ref_100)}\t.\t.\t.",
        f"I\t200\tbad\t{wrong_200}\tT\t.\t.\t.",
        "I\t6001\toff\tA\tG\t.\t.\t.",
    ]
    return (HEADER + "\n".join(records) + "\n").encode()


def test_a_valid_upload_is_validated_and_stored(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = run(variant_set.validation_job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 1 and job.progress_done == job.progress_total > 0
    variant_set.refresh_from_db()
    assert (variant_set.accepted, variant_set.rejected) == (1, 2)
    assert variant_set.contigs_renamed == {"chrI": "I"}
    assert variant_set.variants.get().start == 99  # POS 100 is 0-based 99
    assert {i["line"] for i in variant_set.first_issues} == {4, 5}
    artifacts = {a.name: a for a in job.artifacts.all()}
    expected = {"normalized.vcf.gz", "normalized.vcf.gz.tbi", "issues.tsv", "provenance.json"}
    assert set(artifacts) == expected
    for artifact in artifacts.values():
        assert artifact.sha256 == sha256_file(artifact.path)
        assert artifact.path.stat().st_mode & 0o777 == 0o644


def test_a_right_anchored_deletion_is_stored_left_aligned_and_counted(
    workspace, eddie, genome, client
):
    from engine.io.fasta import Genome as Fasta
    from engine.io.intervals import Interval

    text = Fasta(genome.fasta_file).fetch(Interval("I", 0, 3000))
    run_at = next(
        i
        for i in range(1, 2990)
        if len(set(text[i : i + 3])) == 1 and text[i] not in (text[i - 1], text[i + 3])
    )
    base, last = text[run_at], run_at + 3  # 1-based POS of the run's last base
    record = f"I\t{last}\tdel\t{base}{text[last]}\t{text[last]}\t.\t.\t.\n"
    variant_set = submit(workspace, eddie, genome, (HEADER + record).encode())
    assert run(variant_set.validation_job).status == JobStatus.SUCCEEDED
    variant_set.refresh_from_db()
    stored = variant_set.variants.get()
    assert (stored.start, stored.ref, stored.alt) == (
        run_at - 1,
        text[run_at - 1] + base,
        text[run_at - 1],
    )
    assert variant_set.realigned == 1
    client.force_login(eddie)
    page = client.get(f"/variant-sets/{variant_set.code}/").content.decode()
    assert "1 allele left-aligned or trimmed" in page


def test_a_file_that_is_not_a_vcf_fails_with_a_clear_message(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, b"PK\x03\x04 not really a zip")
    job = run(variant_set.validation_job)
    assert job.status == JobStatus.FAILED
    assert "ZIP archive" in job.error


def test_a_gzip_bomb_fails_without_inflating_it(workspace, eddie, genome):
    bomb = gzip.compress(HEADER.encode() + b"I\t1\t.\tC\tA\t.\t.\t.\n" * 400_000, 9)
    with mock.patch.object(settings, "VCF_MAX_INFLATED_BYTES", 1_000_000):
        variant_set = submit(workspace, eddie, genome, bomb, name="bomb.vcf.gz")
        job = run(variant_set.validation_job)
    assert job.status == JobStatus.FAILED
    assert "limit on inflated size" in job.error


def test_a_job_whose_submitter_was_removed_does_not_run(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    workspace.memberships.filter(user=eddie).delete()
    job = run(variant_set.validation_job)
    assert job.status == JobStatus.FAILED and "no longer has the access it needs" in job.error
    assert not variant_set.variants.exists()


def test_a_redelivered_message_for_a_finished_job_does_nothing(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = run(variant_set.validation_job)
    finished = job.finished_at
    job = run(job)
    assert job.attempts == 1 and job.finished_at == finished
    assert variant_set.variants.count() == 1


def test_a_message_for_a_job_held_by_a_live_worker_is_retried_later(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = variant_set.validation_job
    Job.claim(job.pk, worker="other", task_id="t")
    with mock.patch.object(tasks.run_job, "retry", side_effect=Retry()) as retry:
        tasks.run_job.apply(args=[job.pk])
    retry.assert_called_once_with(countdown=settings.JOB_STALE_SECONDS)
    job.refresh_from_db()
    assert job.attempts == 1 and job.worker == "other"


@pytest.mark.parametrize(
    "error, status, message",
    [
        (JobCancelled(), JobStatus.CANCELLED, ""),
        (SoftTimeLimitExceeded(), JobStatus.FAILED, "ran longer than the limit"),
    ],
)
def test_how_a_job_ends(workspace, eddie, genome, error, status, message):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    handler = mock.Mock(side_effect=error)
    with mock.patch.dict(tasks.HANDLERS, {"validate_vcf": handler}):
        job = run(variant_set.validation_job)
    assert job.status == status and message in job.error


def test_an_unexpected_error_fails_the_job_with_a_reference(workspace, eddie, genome):
    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    handler = mock.Mock(side_effect=RuntimeError("disk on fire"))
    with mock.patch.dict(tasks.HANDLERS, {"validate_vcf": handler}):
        job = run(variant_set.validation_job)
    assert job.status == JobStatus.FAILED
    assert str(job.code) in job.error and "disk on fire" not in job.error


def test_the_progress_callback_stops_a_cancelled_job(workspace, eddie, genome):
    from worker.heartbeat import Heartbeat

    variant_set = submit(workspace, eddie, genome, mini_vcf(genome))
    job = variant_set.validation_job
    Job.claim(job.pk, worker="w", task_id="t")
    job.refresh_from_db()
    heartbeat = Heartbeat(job)
    heartbeat.progress(1, 10)
    Job.objects.get(pk=job.pk).request_cancel()
    heartbeat._beat_once(job)
    with pytest.raises(JobCancelled):
        heartbeat.progress(2, 10)


def test_the_demo_vcf_validates(workspace, eddie, db):
    from genomeweb.catalog.loading import load_genome

    yeast = Path(settings.BASE_DIR) / "data" / "yeast"
    genome = load_genome("sacCer3", yeast / "sacCer3.fa.gz", yeast / "genes_R64.gff3")
    variant_set = submit(workspace, eddie, genome, (yeast / "demo_variants.vcf").read_bytes())
    job = run(variant_set.validation_job)
    variant_set.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert (variant_set.accepted, variant_set.skipped, variant_set.rejected) == (50, 1, 2)


def test_the_copy_insert_stores_what_the_orm_insert_stores(workspace, genome, eddie):
    """PostgreSQL stores a set with COPY, SQLite with the ORM in batches: the same rows either
    way, in index order, ids ascending with index, each with its own code."""
    from engine.io.vcf import Variant as Allele
    from genomeweb.jobs.models import JobKind
    from genomeweb.variants.models import Variant, VariantSet
    from worker.jobs.vcf import _copy_variants, _insert_variants_in_batches

    alleles = [
        Allele("I", 99, "A", "G", "rs1", 3),
        Allele("I", 120, "CT", "C", "", 4, written="I:122:TT:T"),
        Allele("II", 5, "G", "GAT", "x" * 250, 9),  # an ID longer than the column
        Allele("II", 5, "G", "T", "tab\\and\\nodd", 10),
    ]

    def rows(method) -> list[tuple]:
        variant_set = VariantSet.objects.create(workspace=workspace, genome=genome, size=1)
        method(variant_set, alleles)
        stored = Variant.objects.filter(variant_set=variant_set).order_by("id")
        assert len({row.code for row in stored}) == len(alleles)
        fields = ("index", "chrom", "start", "ref", "alt", "ident", "line")
        return [tuple(getattr(row, f) for f in fields) for row in stored]

    job = Job.objects.create(
        workspace=workspace, kind=JobKind.VALIDATE_VCF, status=JobStatus.RUNNING, attempts=1
    )
    copied = rows(_copy_variants)
    created = rows(
        lambda variant_set, alleles: _insert_variants_in_batches(job, variant_set, alleles)
    )
    assert copied == created
    assert [row[0] for row in copied] == [0, 1, 2, 3]
    assert copied[2][5] == "x" * 200 and copied[3][5] == "tab\\and\\nodd"
