"""Predicting a design: stitching around length changes, the job, and the page."""

import zipfile
from pathlib import Path

import numpy as np
import pyBigWig
import pytest
from django.urls import reverse

from engine.designs.edits import Edit, apply_edits
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.pipeline.design import fit_to_window, predict_design
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job, JobKind, JobStatus
from tests.engine.hand_models import CountingModel
from worker import tasks


def write_genome(path, sequence: str) -> Genome:
    path.write_text(f">T\n{sequence}\n")
    return Genome(path)


@pytest.fixture
def random_genome(tmp_path):
    rng = np.random.default_rng(3)
    sequence = "".join(rng.choice(list("ACGT"), 2000))
    return tmp_path / "random.fa", sequence


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("change", [-7, 0, 5])
def test_the_edited_window_keeps_the_model_length(random_genome, change, right):
    path, sequence = random_genome
    genome = write_genome(path, sequence)
    window = Interval("T", 500, 756)
    reference = sequence[500:756]
    edited = reference[:100] + "G" * max(change, 0) + reference[100 - min(change, 0) :]
    fitted = fit_to_window(genome, window, edited, right=right)
    assert len(fitted) == 256
    if right:  # the sequence after the edit sits where it sits in the reference
        assert fitted[-100:] == reference[-100:]
    else:
        assert fitted[:100] == reference[:100]
    if change < 0 and not right:
        assert fitted[-7:] == sequence[756:763]  # continued from the genome


@pytest.mark.parametrize(
    "edit", [Edit("deletion", 100, 104), Edit("insertion", 100, 100, "ACGTAC")]
)
def test_only_the_bins_of_an_indel_change_on_a_per_bin_model(random_genome, tmp_path, edit):
    """The counting model's bins see only their own 16 bp: with stitching, every bin away
    from the edit predicts exactly the reference (no shift of the right flank)."""
    path, sequence = random_genome
    write_genome(path, sequence)
    model = CountingModel()  # 256 bp in, 12 bins of 16 bp from position 32
    window = Interval("T", 500, 756)
    edited = apply_edits(sequence[500:756], [edit])
    out = predict_design(model, path, window, edited, edit.end, [0, 1], [], tmp_path)
    ref = pyBigWig.open(str(tmp_path / "ref.gc.bw")).values("T", 532, 724)
    alt = pyBigWig.open(str(tmp_path / "alt.gc.bw")).values("T", 532, 724)
    changed = {i // 16 for i in range(192) if ref[i] != alt[i]}
    assert changed and changed <= {(100 - 32) // 16, (104 - 32) // 16}  # the edit's bins only
    assert out.summary["interval"] == ["T", 532, 724]
    assert out.summary["length_change"] == len(edited) - 256
    rows = {row["track"]: row for row in out.summary["track_scores"]}
    # the bigWigs hold reads per base (a bin's reads ÷ 16 over each base); REF is in reads
    assert rows["gc"]["REF"] == pytest.approx(16 * sum(ref[::16]))


pytestmark = pytest.mark.usefixtures("no_broker")


@pytest.fixture
def tiny_design(tiny_model, workspace, alice) -> Design:
    design = Design.start_new(
        workspace=workspace,
        user=alice,
        predictor=tiny_model,
        window=Interval("I", 1500, 2524),
        name="PAU8 promoter",
    )
    edits = [Edit("deletion", 600, 610), Edit("substitution", 700, 701, "A")]
    reference = design.reference_sequence()
    if reference[700] == "A":
        edits[1] = Edit("substitution", 700, 701, "C")
    assert design.save_edits(edits, expected_version=1, user=alice)
    return design


def test_an_editor_predicts_the_design_and_the_page_draws_it(as_user, eddie, victor, tiny_design):
    url = reverse("gw-design-predict", kwargs={"code": tiny_design.code})
    tracks = ["stripeseq_S288C_WT_1.plus", "stripeseq_S288C_WT_1.minus"]
    as_user(eddie).post(url, {"tracks": tracks})
    as_user(eddie).post(url, {"tracks": tracks})  # twice: one job
    job = Job.objects.get(kind=JobKind.DESIGN_PREDICT)
    assert job.params == {
        "design": str(tiny_design.code),
        "version": 2,
        "tracks": sorted(tracks),
        "reverse_complement": True,
        "unit": "reads per base",
    }
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.summary["length_change"] == -10
    design = job.provenance["inputs"]["design"]
    assert design["version"] == 2 and design["edited_length"] == 1014
    assert design["edits"] == tiny_design.versions.get(number=2).edits
    tracks = job.artifacts.exclude(name="provenance.json")
    assert tracks.count() == 6  # ref, edited, difference for two tracks
    assert all(np.isfinite(row["logSED"]) for row in job.summary["track_scores"])
    assert any(row["gene"] == "PAU8" for row in job.summary["gene_scores"])

    page = as_user(victor).get(reverse("gw-design", kwargs={"code": tiny_design.code}))
    body = page.content.decode()
    assert "Predict version 2" not in body  # viewers read, editors predict
    config = body.split('<script id="igv-config" type="application/json">')[1]
    assert '"type": "merged"' in config and "predicted edited" in config
    assert '"start": 2100, "end": 2110' in config  # the deletion as a region of interest
    assert "change the length by -10 bp" in body


def test_predicting_without_tracks_is_explained(as_user, eddie, tiny_design):
    url = reverse("gw-design-predict", kwargs={"code": tiny_design.code})
    response = as_user(eddie).post(url, {"tracks": ["nope"]}, follow=True)
    assert "Choose at least one track to predict." in response.content.decode()
    assert not Job.objects.filter(kind=JobKind.DESIGN_PREDICT).exists()


def test_a_new_version_needs_a_new_prediction(as_user, eddie, alice, tiny_design):
    url = reverse("gw-design-predict", kwargs={"code": tiny_design.code})
    as_user(eddie).post(url, {"tracks": ["stripeseq_S288C_WT_1.plus"]})
    tiny_design.save_edits([], expected_version=2, user=alice, message="undo")
    page = as_user(eddie).get(reverse("gw-design", kwargs={"code": tiny_design.code}))
    assert "Version 3 has not been predicted yet." in page.content.decode()


def predicted_and_bundled(client, design) -> Path:
    """Predict ``design`` on one track, then build that prediction's bundle; the zip's path."""
    url = reverse("gw-design-predict", kwargs={"code": design.code})
    client.post(url, {"tracks": ["stripeseq_S288C_WT_1.plus"]})
    prediction = Job.objects.get(kind=JobKind.DESIGN_PREDICT)
    tasks.run_job.apply(args=[prediction.pk])
    page = client.get(reverse("gw-design", kwargs={"code": design.code}))
    assert reverse("gw-bundle", kwargs={"code": prediction.code}) in page.content.decode()
    client.post(reverse("gw-bundle", kwargs={"code": prediction.code}), {"report_top": 50})
    bundle = Job.objects.get(kind=JobKind.BUNDLE)
    tasks.run_job.apply(args=[bundle.pk])
    bundle.refresh_from_db()
    assert bundle.status == JobStatus.SUCCEEDED, bundle.error
    return bundle.artifacts.get().path


def test_a_design_bundle_holds_both_sequences_and_a_report_of_the_edits(
    as_user, eddie, tiny_design
):
    with zipfile.ZipFile(predicted_and_bundled(as_user(eddie), tiny_design)) as archive:
        names = set(archive.namelist())
        fasta = archive.read("inputs/design.fa").decode().split("\n")
        report = archive.read("report.html").decode()
    assert {"outputs/ref.stripeseq_S288C_WT_1.plus.bw", "report.html"} <= names
    reference, edited = fasta[1], fasta[3]
    assert fasta[0] == ">reference I:1,501-2,524" and len(reference) == 1024
    assert len(edited) == 1014  # the 10-bp deletion
    assert edited == tiny_design.edited_sequence()
    assert "deletion" in report and "substitution" in report


def test_a_design_without_edits_is_bundled_with_its_sequences_only(
    as_user, eddie, alice, tiny_model, workspace
):
    design = Design.start_new(
        workspace=workspace,
        user=alice,
        predictor=tiny_model,
        window=Interval("I", 1500, 2524),
        name="unchanged",
    )
    with zipfile.ZipFile(predicted_and_bundled(as_user(eddie), design)) as archive:
        names = set(archive.namelist())
        fasta = archive.read("inputs/design.fa").decode().split("\n")
    assert "report.html" not in names and fasta[1] == fasta[3]  # edited = reference
