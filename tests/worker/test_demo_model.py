"""The shipped demo model: its card's numbers are what predict_tracks reproduces."""

import json
from pathlib import Path

import numpy as np
import pyBigWig
import pytest
from django.conf import settings
from django.core.management import call_command

from engine.training.data import SAMPLES, binned_counts
from engine.training.metrics import log_pearson

MODEL = Path(settings.BASE_DIR) / "data" / "models" / "yeast-demo"
YEAST = Path(settings.BASE_DIR) / "data" / "yeast"


def test_the_model_card_meets_the_acceptance_bars():
    metrics = json.loads((MODEL / "metrics.json").read_text())
    model = metrics["model_rc"]  # the model's default ensembling
    assert model["bins_32bp"]["WT"] >= 0.65
    assert model["gene_level"]["WT"] >= 0.62
    assert model["bins_32bp"]["WT"] > metrics["baseline_distance_to_tss"]["bins_32bp"]["WT"]
    card = (MODEL / "MODEL_CARD.md").read_text()
    assert f"{model['bins_32bp']['WT']:.3f}" in card and f"{model['gene_level']['WT']:.3f}" in card


def test_the_card_is_what_its_metrics_render_and_says_what_is_known_of_variants():
    from engine.training.model_card import render

    card = (MODEL / "MODEL_CARD.md").read_text()
    assert card == render(MODEL)
    metrics = json.loads((MODEL / "metrics.json").read_text())
    assert metrics["variant_level_validation"]["status"] == "unvalidated"
    assert "## Variant-level validation\nNot validated." in card


def test_the_checkpoint_is_small():
    assert (MODEL / "model.safetensors").stat().st_size < 8 * 2**20


@pytest.mark.slow
def test_predict_tracks_over_xii_reproduces_the_card(db, tmp_path):
    call_command("load_demo")
    call_command("predict_tracks", model="yeast-demo", region="XII", out=tmp_path)
    metrics = json.loads((MODEL / "metrics.json").read_text())
    expected = metrics["model_rc"]["per_chromosome_32bp"]["XII"]["WT"]
    scores = []
    for sample in (s for s in SAMPLES if "_WT_" in s):
        observed, predicted = [], []
        for strand in ("plus", "minus"):
            name = f"stripeseq_{sample}.{strand}"
            length = pyBigWig.open(str(YEAST / f"{name}.bw")).chroms()["XII"]
            full_bins = length // 32  # predict_tracks writes whole bins only
            observed.append(binned_counts(YEAST / f"{name}.bw", "XII", length)[:full_bins])
            bw = pyBigWig.open(str(tmp_path / f"{name}.bw"))
            predicted.append(np.array(bw.values("XII", 0, full_bins * 32))[::32])
        scores.append(log_pearson(np.concatenate(observed), np.concatenate(predicted)))
    assert np.mean(scores) == pytest.approx(expected, abs=2e-3)
