"""A large scoring job runs as parts on every available worker, with real processes."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from genomeweb.catalog.models import Genome, Predictor
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantEffect
from genomeweb.variants.submit import submit_scoring, submit_variant_set
from tests.worker.conftest import wait_for
from tests.worker.test_worker_faults import many_snvs

ALLELES_PER_PART = "60"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parts_spread_over_two_workers_and_join_into_one_result(start_worker, alice, workspace):
    call_command("load_demo")
    genome = Genome.objects.get(name="sacCer3")
    content, expected = many_snvs(genome, 240, seed=3)
    variant_set = submit_variant_set(
        workspace=workspace,
        user=alice,
        genome=genome,
        name="screen",
        upload=SimpleUploadedFile("screen.vcf", content),
        submission=uuid.uuid4(),
    )
    env = {"GW_SCORING_PART_ALLELES": ALLELES_PER_PART, "OMP_NUM_THREADS": "1"}
    start_worker("one", **env)
    start_worker("two", **env)
    validation = variant_set.validation_job
    wait_for(lambda: Job.objects.get(pk=validation.pk).is_final, 120, "the validation")
    variant_set.refresh_from_db()
    assert variant_set.accepted == expected

    predictor = Predictor.objects.get(name="yeast-demo")
    tracks = list(predictor.tracks.order_by("index").values_list("identifier", flat=True))[:4]
    job = submit_scoring(
        variant_set=variant_set,
        user=alice,
        params={
            "variant_set": str(variant_set.code),
            "model": predictor.name,
            "tracks": tracks,
            "scorers": ["logSED", "SUM"],
            "reverse_complement": True,
            "shifts": [0],
            "replicates": 1,
            "genes": True,
        },
    )
    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 300, "the scoring job")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    parts = Job.objects.filter(parent=job, kind=JobKind.SCORE_VARIANTS_PART)
    assert parts.count() >= 3
    assert set(parts.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    workers = {worker.split("@")[0] for worker in parts.values_list("worker", flat=True)}
    assert workers == {"one", "two"}
    # the joined job's provenance: its parts, and the model and device they ran
    assert job.provenance["job"]["parts"] == [str(p.code) for p in parts.order_by("params__part")]
    assert {p.provenance["job"]["worker"] for p in parts} == set(
        parts.values_list("worker", flat=True)
    )
    assert job.provenance["model"]["replicates"] == predictor.replicates[:1]
    assert job.provenance["device"] == parts.first().provenance["device"]
    assert VariantEffect.objects.filter(job=job).count() == expected
    assert job.summary["alleles"] == expected
    names = set(job.artifacts.values_list("name", flat=True))
    assert {"scores.tsv", "annotated.vcf.gz", "scores.npz"} <= names
    assert all(Path(a.path).stat().st_size > 0 for a in job.artifacts.all())
    assert settings.SCORING_PART_ALLELES != int(ALLELES_PER_PART)  # only the workers split
