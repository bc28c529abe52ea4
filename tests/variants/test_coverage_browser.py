"""A variant page's genome browser: observed coverage at first paint, predictions joining it on
one scale (reads per base), a legend, and no page reload when the prediction is ready."""

import json

import numpy as np
import pyBigWig
import pytest
import torch
from django.urls import reverse

from engine.io.bigwig import write_bigwig
from engine.io.fasta import Genome as Fasta
from engine.io.intervals import Interval
from engine.models.runtime import autocast
from engine.variants.effects import allele_profiles
from genomeweb.catalog.models import Predictor
from genomeweb.catalog.registration import pair_observed_tracks, register_observed
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantEffect
from worker import tasks
from worker.jobs.scoring import as_engine_variant, scoring_model

UNIT = "(reads per base)"


@pytest.fixture
def observed(scored, genome, tmp_path):
    """An observed bigWig (counts at single bases) for every track of the tiny model."""
    predictor = Predictor.objects.get(name="tiny")
    counts = np.zeros(6000)
    counts[1650:1850:7] = 3.0
    for ident in predictor.tracks.values_list("identifier", flat=True):
        path = tmp_path / f"{ident}.bw"
        write_bigwig(path, {"I": 6000, "II": 4000}, [(Interval("I", 0, 6000), counts)])
        register_observed(genome, path, description="STRIPE-seq TSS counts")
    assert pair_observed_tracks(predictor) == 12
    return predictor


def igv_config(page: str) -> dict:
    return json.loads(
        page.split('<script id="igv-config" type="application/json">')[1].split("</script>")[0]
    )


def strongest(job) -> VariantEffect:
    """The strongest SNV on I, whose window lies wholly on the contig."""
    effects = VariantEffect.objects.filter(job=job, variant__chrom="I")
    return effects.order_by("-max_abs").first()


def page_url(job, effect) -> str:
    return reverse("gw-effect", kwargs={"code": job.code, "effect_id": effect.pk})


def test_the_page_draws_observed_coverage_and_genes_before_any_prediction(
    as_user, victor, scored, observed
):
    effect = strongest(scored)
    client = as_user(victor)
    page = client.get(page_url(scored, effect)).content.decode()
    assert not Job.objects.filter(kind=JobKind.VARIANT_TRACKS).exists()
    config = igv_config(page)
    assert config["tracks"][0]["name"] == "Genes"
    panels = config["tracks"][1:]
    assert panels and all(p["type"] == "merged" and p["name"].endswith(UNIT) for p in panels)
    assert panels[0]["name"] == f"{effect.top_track} {UNIT}"
    layer = panels[0]["tracks"][0]
    assert layer["name"] == f"observed {effect.top_track} {UNIT}"
    head = client.get(layer["url"], HTTP_RANGE="bytes=0-63")
    assert head.status_code == 206
    legend = page.split('<ul class="igv-legend"')[1].split("</ul>")[0]
    for label in ("observed", "predicted reference", "predicted alternative", "alt − ref"):
        assert label in legend
    assert "<strong>reads per base</strong>" in page
    assert "window.location.reload" not in page


def test_predictions_join_the_observed_panel_on_one_scale_without_a_reload(
    as_user, eddie, victor, scored, observed
):
    effect = strongest(scored)
    url = reverse("gw-effect-tracks", kwargs={"code": scored.code, "effect_id": effect.pk})
    chosen = [effect.top_track]
    as_user(eddie).post(url, {"tracks": chosen})
    tracks_job = Job.objects.get(kind=JobKind.VARIANT_TRACKS)
    assert tracks_job.params["unit"] == "reads per base"
    tasks.run_job.apply(args=[tracks_job.pk])
    tracks_job.refresh_from_db()
    assert tracks_job.status == JobStatus.SUCCEEDED, tracks_job.error

    # The poll's last answer carries the predicted panels for igv.js and stops polling.
    client = as_user(victor)
    poll = client.get(page_url(scored, effect), {"tracks": chosen}, HTTP_HX_REQUEST="true")
    assert poll.status_code == 286
    fragment = poll.content.decode()
    assert "reload" not in fragment
    panels = json.loads(
        fragment.split('<script id="igv-predicted" type="application/json">')[1].split("</script>")[
            0
        ]
    )
    merged, delta = panels
    assert merged["name"] == f"{effect.top_track} {UNIT}"  # replaces the observed panel by name
    names = [layer["name"] for layer in merged["tracks"]]
    assert names == [
        f"observed {effect.top_track} {UNIT}",
        f"predicted reference {effect.top_track} {UNIT}",
        f"predicted alternative {effect.top_track} {UNIT}",
    ]
    assert {layer["autoscaleGroup"] for layer in merged["tracks"]} == {effect.top_track}
    assert delta["name"] == f"alt − ref {effect.top_track} {UNIT}"
    assert (
        igv_config(client.get(page_url(scored, effect), {"tracks": chosen}).content.decode())[
            "tracks"
        ][1:]
        == panels
    )  # a later visit draws the same

    # The written values: the model's reads per 32 bp bin, ÷ 32 over each base of the bin.
    predictor = Predictor.objects.get(name="tiny")
    model, indices = scoring_model(predictor, scored.params, chosen)
    start = (effect.variant.start - model.sequence_length // 2) // 32 * 32
    fasta = Fasta(predictor.genome.fasta_file)
    with torch.inference_mode(), autocast(model.device):
        ref, _ = allele_profiles(model, fasta, as_engine_variant(effect.variant), indices, start)
    ref_bins = ref[0, :, 0].float().numpy()  # (bins,) reads per bin
    first = tracks_job.summary["start"]
    bigwig = pyBigWig.open(str(tracks_job.artifacts.get(name=f"ref.{chosen[0]}.bw").path))
    written = np.array(bigwig.values("I", first, first + 32 * len(ref_bins)))
    np.testing.assert_allclose(written, np.repeat(ref_bins / 32, 32), rtol=1e-5, atol=1e-7)


def test_an_earlier_prediction_in_reads_per_bin_is_not_shown_and_can_be_redone(
    as_user, eddie, scored, observed
):
    effect = strongest(scored)
    params = {"effects_job": str(scored.code), "effect": effect.pk, "tracks": [effect.top_track]}
    Job.objects.create(
        workspace=scored.workspace,
        created_by=eddie,
        kind=JobKind.VARIANT_TRACKS,
        status=JobStatus.SUCCEEDED,
        params=params,  # no unit: its bigWigs hold reads per bin
    )
    page = as_user(eddie).get(page_url(scored, effect), {"tracks": [effect.top_track]})
    body = page.content.decode()
    assert "Predict reference and alternative for these tracks" in body
    assert all(len(p["tracks"]) == 1 for p in igv_config(body)["tracks"][1:])  # observed only
