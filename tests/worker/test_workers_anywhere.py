"""Workers anywhere (issue 16, item 2): two real Celery workers that share no disk, only the
broker, the database and an S3 bucket, run one scoring job's parts between them, and the web
serves the joined result from the bucket.

Each worker has its own empty GW_VAR_DIR, GW_RESULTS_DIR and GW_UPLOAD_DIR, as a worker on
another host would (deploy/README.md lists what a worker needs); the web (this test process) has
a third set. The S3 server is moto's, on loopback (tests/storage/s3.py says which and why). Both
workers read the tiny model's weights and the mini genome from the same paths here: a worker on
another host has its own copy at the path the catalog holds, checked against its sha256.
"""

import random
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engine.io.fasta import Genome as Fasta
from engine.io.intervals import Interval
from genomeweb.celery import app
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.results.models import Artifact
from genomeweb.results.storage import results_are_local
from genomeweb.variants.models import VariantEffect
from genomeweb.variants.submit import submit_scoring, submit_variant_set
from tests.storage.s3 import new_bucket, s3_environment, s3_server, s3_storages  # noqa: F401
from tests.worker.conftest import wait_for

ALLELES_PER_PART = 12
WORKERS = ("east", "west")


def spread_snvs(genome, count: int, seed: int = 16) -> bytes:
    """A VCF of ``count`` distinct SNVs spread over both contigs of the mini genome."""
    fasta = Fasta(genome.fasta_file)
    places = [(chrom, pos) for chrom in ("I", "II") for pos in range(fasta.contig_lengths[chrom])]
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for chrom, pos in sorted(random.Random(seed).sample(places, count)):
        ref = fasta.fetch(Interval(chrom, pos, pos + 1))
        alt = "A" if ref != "A" else "C"
        lines.append(f"{chrom}\t{pos + 1}\tsnv{chrom}_{pos + 1}\t{ref}\t{alt}\t.\t.\t.")
    return ("\n".join(lines) + "\n").encode()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_without_a_shared_disk_split_a_job_the_web_serves_from_the_bucket(
    start_worker,
    s3_server,  # noqa: F811  (the fixture imported above)
    settings,
    tmp_path,
    as_user,
    alice,
    victor,
    workspace,
    tiny_model,
):
    bucket = new_bucket(s3_server)
    settings.STORAGES = s3_storages(s3_server, bucket.name)
    web = {"RESULTS_DIR": tmp_path / "web" / "results", "UPLOAD_DIR": tmp_path / "web" / "uploads"}
    for name, folder in web.items():
        folder.mkdir(parents=True)
        setattr(settings, name, folder)
    assert not results_are_local()

    hosts = {name: tmp_path / name for name in WORKERS}
    for name, home in hosts.items():
        start_worker(
            name,
            **s3_environment(s3_server, bucket.name),
            GW_VAR_DIR=str(home / "var"),
            GW_RESULTS_DIR=str(home / "results"),
            GW_UPLOAD_DIR=str(home / "uploads"),
            GW_SCORING_PART_ALLELES=str(ALLELES_PER_PART),
            OMP_NUM_THREADS="1",
        )
    # Both consume before the parts are sent, so each can take some.
    wanted = {f"{name}@" for name in WORKERS}

    def both_answer() -> bool:
        replies = app.control.ping(timeout=0.5)
        return {name.split("@")[0] + "@" for reply in replies for name in reply} >= wanted

    wait_for(both_answer, 60, "both workers to answer a ping")

    genome = tiny_model.genome
    content = spread_snvs(genome, 72)
    variant_set = submit_variant_set(
        workspace=workspace,
        user=alice,
        genome=genome,
        name="spread",
        upload=SimpleUploadedFile("spread.vcf", content),
        submission=uuid.uuid4(),
    )
    validation = variant_set.validation_job
    wait_for(lambda: Job.objects.get(pk=validation.pk).is_final, 60, "the validation")
    variant_set.refresh_from_db()
    assert variant_set.accepted == 72
    tracks = list(tiny_model.tracks.order_by("index").values_list("identifier", flat=True))[:3]
    job = submit_scoring(
        variant_set=variant_set,
        user=alice,
        params={
            "variant_set": str(variant_set.code),
            "model": tiny_model.name,
            "tracks": tracks,
            "scorers": ["logSED", "SUM"],
            "reverse_complement": False,
            "shifts": [0],
            "replicates": 1,
            "genes": True,
        },
    )
    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 120, "the scoring job")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    parts = Job.objects.filter(parent=job, kind=JobKind.SCORE_VARIANTS_PART)
    assert parts.count() >= 72 // (2 * ALLELES_PER_PART)
    assert set(parts.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    took = {name: parts.filter(worker__startswith=f"{name}@") for name in WORKERS}
    assert all(took[name].exists() for name in WORKERS), {n: p.count() for n, p in took.items()}
    # No disk was shared: each part's scratch folder is on the worker that ran it only.
    for name, other in (WORKERS, WORKERS[::-1]):
        for part in took[name]:
            assert (hosts[name] / "results" / str(part.code)).is_dir()
            assert not (hosts[other] / "results" / str(part.code)).exists()

    # Every allele scored exactly once: one row each, and the parts' ranges tile the set.
    effects = VariantEffect.objects.filter(job=job)
    assert effects.count() == 72
    assert effects.values("variant").distinct().count() == 72
    assert set(effects.values_list("variant__variant_set", flat=True)) == {variant_set.pk}
    ranges = sorted((p.params["first"], p.params["stop"]) for p in parts)
    assert ranges[0][0] == 0 and ranges[-1][1] == 72
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert sum(p.summary["alleles"] for p in parts) == 72
    assert job.summary["alleles"] == 72

    # The web serves the joined files from the bucket: nothing of the job is on its disk.
    assert not (web["RESULTS_DIR"] / str(job.code)).exists()
    client = as_user(victor)
    names = set(job.artifacts.values_list("name", flat=True))
    assert {"scores.tsv", "annotated.vcf.gz", "scores.npz"} <= names
    for artifact in Artifact.objects.filter(job=job):
        stored = bucket.Object(f"results/{artifact.relative_path}").get()["Body"].read()
        assert len(stored) == artifact.size > 0
        response = client.get(reverse("gw-artifact", args=[artifact.code]))
        assert response.status_code == 200 and body(response) == stored
    tsv = job.artifacts.get(name="scores.tsv")
    rows = body(client.get(reverse("gw-artifact", args=[tsv.code]))).decode().splitlines()
    assert rows[0].split("\t")[:6] == ["chrom", "pos", "ref", "alt", "id", "track"]
    alleles = [tuple(row.split("\t")[:6]) for row in rows[1:]]
    assert len(alleles) == len(set(alleles)) == 72 * len(tracks)  # one row per allele and track
    assert len({allele[4] for allele in alleles}) == 72
