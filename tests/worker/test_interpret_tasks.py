"""ISM and saliency jobs: the worker reads the job row, runs, stores files and a summary."""

import numpy as np
import pyBigWig
import pytest

from genomeweb.jobs.models import Job, JobKind, JobStatus
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")


def run(workspace, user, kind, **params) -> Job:
    defaults = {
        "model": "tiny",
        "region": ["I", 1800, 1848],
        "objective": {"gene": "YAL068C"},
        "log": True,
        "reverse_complement": True,
    }
    job = Job.objects.create(
        workspace=workspace, created_by=user, kind=kind, params=defaults | params
    )
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    return job


def test_an_ism_job_stores_the_matrix_the_mean_track_and_the_strongest_mutations(
    tiny_model, workspace, eddie
):
    job = run(workspace, eddie, JobKind.ISM)
    assert job.status == JobStatus.SUCCEEDED, job.error
    saved = np.load(job.artifacts.get(name="ism.npz").path)
    effects = saved["effects"]
    assert effects.shape == (48, 4) and int(saved["start"]) == 1800
    strongest = job.summary["strongest"]
    assert len(strongest) == 10 and strongest[0]["effect"] == pytest.approx(effects.min())
    assert [s["effect"] for s in strongest] == sorted(s["effect"] for s in strongest)
    first = strongest[0]
    row = first["position"] - 1 - 1800
    assert effects[row, "ACGT".index(first["alt"])] == pytest.approx(first["effect"])
    assert "".join(saved["reference"])[row] == first["ref"]
    bigwig = pyBigWig.open(str(job.artifacts.get(name="ism_mean.bw").path))
    np.testing.assert_allclose(bigwig.values("I", 1800, 1848), effects.sum(axis=1) / 3, rtol=1e-5)
    assert job.summary["mutants"] == 144 and "PAU8" in job.summary["objective"]


def test_an_ism_job_over_too_long_a_region_fails_with_the_limit(tiny_model, workspace, eddie):
    job = run(workspace, eddie, JobKind.ISM, region=["I", 0, 2500])
    assert job.status == JobStatus.FAILED
    assert job.error == "ISM takes at most 2,000 bp; this region has 2,500"


def test_a_gene_outside_the_window_fails_clearly(tiny_model, workspace, eddie):
    job = run(workspace, eddie, JobKind.ISM, region=["II", 2800, 2810])
    assert job.status == JobStatus.FAILED and "none of PAU8's start window is in" in job.error


def test_a_saliency_job_stores_the_gradient_and_proposes_a_focused_ism(
    tiny_model, workspace, eddie
):
    job = run(
        workspace,
        eddie,
        JobKind.SALIENCY,
        objective={"tracks": ["stripeseq_S288C_WT_1.plus"], "over": ["I", 2000, 2100]},
        region=["I", 2000, 2100],
        log=False,
    )
    assert job.status == JobStatus.SUCCEEDED, job.error
    saved = np.load(job.artifacts.get(name="saliency.npz").path)
    assert saved["gradient"].shape == (1024, 4)
    chrom, start, end = job.summary["focused_ism"]
    window_start = int(saved["window_start"])
    assert chrom == "I" and end - start == 192
    assert window_start <= start and end <= window_start + 1024
    bigwig = pyBigWig.open(str(job.artifacts.get(name="saliency.bw").path))
    assert bigwig.values("I", 2000, 2001)[0] == pytest.approx(
        saved["contribution"][2000 - window_start]
    )


def test_an_attention_job_stores_the_map_and_its_figure(tiny_model, workspace, eddie):
    job = run(workspace, eddie, JobKind.ATTENTION, layer=1, head=None, region=["I", 1800, 1900])
    assert job.status == JobStatus.SUCCEEDED, job.error
    saved = np.load(job.artifacts.get(name="attention.npz").path)
    assert saved["weights"].shape == (8, 8) and int(saved["token_bp"]) == 128
    assert job.summary["tokens"] == 8 and job.summary["heads"] == 2
    svg = job.artifacts.get(name="attention.svg").path.read_text()
    assert svg.startswith("<svg") and "PAU8" in svg


def test_an_attention_job_for_a_missing_layer_fails_clearly(tiny_model, workspace, eddie):
    job = run(workspace, eddie, JobKind.ATTENTION, layer=5, head=None)
    assert job.status == JobStatus.FAILED
    assert job.error == "tiny has attention layers 1 to 2; asked for 6"
