"""``manage.py evaluate_model`` on the tiny random model over the mini genome."""

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from engine.io.bigwig import write_bigwig
from engine.io.intervals import Interval
from genomeweb.catalog.models import ObservedTrack


def evaluate(**options) -> dict:
    out = io.StringIO()
    call_command("evaluate_model", "tiny", stdout=out, **options)
    return json.loads(out.getvalue())


@pytest.fixture
def observed(genome, tmp_path):
    """A bigWig of made-up counts named like the tiny model's first track."""
    path = tmp_path / "observed.bw"
    sizes = {c.name: c.length for c in genome.contigs.all()}
    rng = np.random.default_rng(0)
    entries = [
        (Interval(c, 0, n), rng.poisson(2.0, n).astype(np.float32)) for c, n in sizes.items()
    ]
    write_bigwig(path, sizes, entries)
    return ObservedTrack.objects.create(
        genome=genome, name="stripeseq_S288C_WT_1.plus", path=str(path), sha256="0" * 64
    )


def test_it_scores_the_paired_track_and_every_proxy_with_its_reference(
    tiny_model, observed, tmp_path
):
    result = evaluate(chroms=["I", "II"], promoters=2, snvs=12, out=tmp_path / "e.json")
    coverage = result["coverage"]
    assert list(coverage["tracks"]) == ["stripeseq_S288C_WT_1.plus"]
    assert -1 <= coverage["mean_pearson"] <= 1 and coverage["chromosomes"] == ["I", "II"]
    proxies = result["variant_proxies"]
    assert "300 bp before its start" in proxies["gene_region"]
    assert "skipped" in proxies["tata_box_ranks"]  # no TDH3 … in the mini genome
    stability = proxies["stability"]
    assert stability["variants"] == 12
    for key in ("shift_0_vs_7", "centred_vs_shared_windows"):
        assert -1 <= stability[key]["pearson"] <= 1
    assert json.loads((tmp_path / "e.json").read_text()) == result


def test_it_needs_held_out_chromosomes_it_can_find(tiny_model):
    with pytest.raises(CommandError, match="name held-out chromosomes with --chroms"):
        evaluate()
    with pytest.raises(CommandError, match="not contigs of mini: XII"):
        evaluate(chroms=["XII"])


def test_card_stores_the_result_in_the_models_metrics(tiny_model, tiny_yeast_dir):
    (tiny_yeast_dir / "metrics.json").write_text(json.dumps({"test_chromosomes": ["II"]}))
    result = evaluate(promoters=1, snvs=6, no_coverage=True, card=True)
    stored = json.loads((tiny_yeast_dir / "metrics.json").read_text())
    assert stored["test_chromosomes"] == ["II"] and stored["evaluation"] == result
    assert result["variant_proxies"]["chromosomes"] == ["II"] and "coverage" not in result
