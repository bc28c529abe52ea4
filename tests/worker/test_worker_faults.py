"""Fault tolerance with real processes: a worker killed with SIGKILL mid-job loses nothing."""

import os
import random
import signal
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from genomeweb.catalog.loading import load_genome
from genomeweb.jobs.models import Job, JobStatus
from genomeweb.results.models import Artifact
from genomeweb.variants.models import Variant
from genomeweb.variants.submit import submit_variant_set
from tests.worker.conftest import kill_group, wait_for

YEAST = Path(settings.BASE_DIR) / "data" / "yeast"
FAST_RECOVERY = {
    "GW_JOB_HEARTBEAT_SECONDS": "1",
    "GW_JOB_STALE_SECONDS": "3",
    "GW_BROKER_VISIBILITY_TIMEOUT": "4",
    "GW_BROKER_RESTORE_SECONDS": "1",
}


def many_snvs(genome, count: int, seed: int = 7) -> tuple[bytes, int]:
    """A VCF of ``count`` distinct SNVs with the genome's REF, and how many there are."""
    from engine.io.fasta import Genome as Fasta
    from engine.io.intervals import Interval

    fasta = Fasta(genome.fasta_file)
    chrom = "IV"  # 1.5 Mb: room for many distinct positions
    seq = fasta.fetch(Interval(chrom, 0, fasta.contig_lengths[chrom]))
    positions = sorted(random.Random(seed).sample(range(len(seq)), count))
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for pos in positions:
        ref = seq[pos]
        alt = "A" if ref != "A" else "C"
        lines.append(f"{chrom}\t{pos + 1}\t.\t{ref}\t{alt}\t.\t.\t.")
    accepted = sum(seq[p] in "ACGT" for p in positions)
    return ("\n".join(lines) + "\n").encode(), accepted


def submit_big_vcf(workspace, user, count: int = 150_000, name: str = "big"):
    """``count`` SNVs on the real yeast genome: 150,000 is long enough to kill a worker in the
    middle."""
    genome = load_genome("sacCer3", YEAST / "sacCer3.fa.gz")
    content, expected = many_snvs(genome, count)
    variant_set = submit_variant_set(
        workspace=workspace,
        user=user,
        genome=genome,
        name=name,
        upload=SimpleUploadedFile(f"{name}.vcf", content),
        submission=uuid.uuid4(),
    )
    return variant_set, expected


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_survives_sigkill_of_its_worker_and_finishes_once(start_worker, alice, workspace):
    variant_set, expected = submit_big_vcf(workspace, alice)
    job = variant_set.validation_job

    first = start_worker("first", **FAST_RECOVERY)
    wait_for(lambda: Job.objects.get(pk=job.pk).progress_done > 0, 90, "the job to make progress")
    kill_group(first, signal.SIGKILL)  # the whole worker, parent and pool child, no goodbye
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING

    start_worker("second", **FAST_RECOVERY)
    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 180, "the job to finish")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2 and job.worker.startswith("second@")
    assert Variant.objects.filter(variant_set=variant_set).count() == expected
    assert Artifact.objects.filter(job=job).count() == 4  # three files and provenance.json
    assert job.provenance["job"]["attempts"] == 2
    assert job.provenance["job"]["worker"].startswith("second@")
    variant_set.refresh_from_db()
    assert variant_set.accepted == expected


def pool_child(worker) -> int:
    """The pid of the prefork pool's one child, which runs the tasks."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_input_that_keeps_killing_the_worker_fails_after_three_attempts(
    start_worker, alice, workspace
):
    variant_set, _ = submit_big_vcf(workspace, alice)
    job = variant_set.validation_job
    worker = start_worker("crashy", **FAST_RECOVERY)
    for attempt in (1, 2, 3):  # as if the input crashed native code each time it was read

        def working(attempt=attempt):
            row = Job.objects.get(pk=job.pk)
            return row.attempts == attempt and row.progress_done > 0

        wait_for(working, 90, f"attempt {attempt} to make progress")
        os.kill(pool_child(worker), signal.SIGKILL)

    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 90, "the attempt guard")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 3
    assert "stopped the worker 3 times" in job.error
    assert not Variant.objects.filter(variant_set=variant_set).exists()
