"""``manage.py ism`` and ``manage.py saliency`` on the tiny model and the mini genome."""

import io

import numpy as np
import pyBigWig
import pytest
from django.core.management import CommandError, call_command


def run(command: str, **options) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def test_ism_writes_an_l_by_4_matrix_with_zeros_at_the_reference(tiny_model, tmp_path):
    out = tmp_path / "ism.npz"
    text = run("ism", model="tiny", region="I:1,801-1,848", gene="PAU8", out=out, batch_size=20)
    assert "144 mutants of I:1801-1848" in text and "strongest decreases: I:" in text
    saved = np.load(out)
    effects, reference = saved["effects"], "".join(saved["reference"])
    assert effects.shape == (48, 4) and len(reference) == 48
    assert (effects[np.arange(48), ["ACGT".index(b) for b in reference]] == 0).all()
    assert np.abs(effects).max() > 1e-3
    assert "PAU8" in str(saved["objective"]) and int(saved["start"]) == 1800
    # the plain path gives the same matrix
    plain = tmp_path / "plain.npz"
    run("ism", model="tiny", region="I:1801-1848", gene="pau8", out=plain, plain=True)
    np.testing.assert_allclose(np.load(plain)["effects"], effects, rtol=1e-4, atol=1e-6)


def test_ism_writes_the_paper_figure_beside_the_matrix(tiny_model, tmp_path):
    out = tmp_path / "his.npz"
    run("ism", model="tiny", region="I:1,801-1,848", gene="PAU8", out=out, figure=True)
    svg = (tmp_path / "his.svg").read_text()
    assert "tiny: ISM of I:1,801-1,848" in svg and "I:1,801-1,848 (1-based)" in svg
    assert (tmp_path / "his.png").read_bytes().startswith(b"\x89PNG")


def test_ism_on_a_track_over_a_chosen_region(tiny_model, tmp_path):
    out = tmp_path / "ism.npz"
    run(
        "ism",
        model="tiny",
        region="chrI:2,001-2,010",
        track=["stripeseq_S288C_WT_1.plus"],
        objective_region="I:2,001-2,100",
        linear=True,
        out=out,
    )
    saved = np.load(out)
    assert saved["effects"].shape == (10, 4)
    assert str(saved["objective"]) == "sum of stripeseq_S288C_WT_1.plus over I:2001-2100"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"region": "I:1-3000", "gene": "PAU8"}, "ISM takes at most 2,000"),
        ({"region": "I:1-10", "gene": "NOPE1"}, "no gene 'NOPE1' in mini"),
        ({"region": "chrXX:1-10", "gene": "PAU8"}, "contig 'chrXX' is not in mini"),
        ({"region": "I:1-10", "track": ["nope"]}, "unknown tracks: nope"),
        ({"region": "II:2,801-2,810", "gene": "PAU8"}, "none of PAU8's start window is in"),
    ],
)
def test_ism_explains_bad_options(tiny_model, tmp_path, options, message):
    with pytest.raises(CommandError, match=message):
        run("ism", model="tiny", out=tmp_path / "x.npz", **options)
    assert not (tmp_path / "x.npz").exists()


def test_saliency_centres_on_the_gene_and_offers_a_focused_ism(tiny_model, tmp_path):
    out, bigwig = tmp_path / "saliency.npz", tmp_path / "saliency.bw"
    text = run("saliency", model="tiny", gene="YAL067W-A", out=out, bigwig=bigwig)
    saved = np.load(out)
    assert saved["gradient"].shape == (1024, 4) and saved["contribution"].shape == (1024,)
    np.testing.assert_allclose(saved["gradient"].sum(axis=1), 0, atol=1e-6)  # centred
    first, last = int(saved["focused_ism_start"]), int(saved["focused_ism_end"])
    assert last - first == 192 and f"focused ISM: I:{first + 1:,}-{last:,}" in text
    window_start = int(saved["window_start"])
    assert window_start == (2479 + 2707) // 2 - 512
    values = pyBigWig.open(str(bigwig)).values("I", max(window_start, 0), window_start + 1024)
    np.testing.assert_allclose(values, saved["contribution"][-window_start:], rtol=1e-6)


def test_saliency_needs_a_region_or_a_gene(tiny_model, tmp_path):
    with pytest.raises(CommandError, match="give --region, or --gene"):
        run("saliency", model="tiny", track=["stripeseq_S288C_WT_1.plus"], out=tmp_path / "s")


@pytest.mark.usefixtures("no_broker")
def test_the_ism_command_writes_exactly_the_ism_jobs_npz_and_figure(
    tiny_model, workspace, eddie, tmp_path
):
    from genomeweb.jobs.models import Job, JobKind, JobStatus
    from worker import tasks

    params = {
        "model": "tiny",
        "region": ["I", 1800, 1848],
        "objective": {"gene": "YAL068C"},
        "log": True,
        "reverse_complement": True,
    }
    job = Job.objects.create(workspace=workspace, created_by=eddie, kind=JobKind.ISM, params=params)
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    out = tmp_path / "cli.npz"
    run("ism", model="tiny", region="I:1,801-1,848", gene="YAL068C", out=out, figure=True)
    stored = {a.name: a.path for a in job.artifacts.all()}
    assert out.read_bytes() == stored["ism.npz"].read_bytes()
    assert out.with_suffix(".svg").read_bytes() == stored["ism.svg"].read_bytes()
    assert out.with_suffix(".png").read_bytes() == stored["ism.png"].read_bytes()
    saved = np.load(out)
    assert str(saved["model"]) == "tiny" and saved["effects"].shape == (48, 4)
