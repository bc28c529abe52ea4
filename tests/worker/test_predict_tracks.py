import numpy as np
import pyBigWig
import pytest
from django.core.management import CommandError, call_command

from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models import runtime
from engine.models.regions import predict_region
from genomeweb.catalog.models import Predictor


@pytest.fixture
def tiny_model(genome, tiny_yeast_dir):
    call_command(
        "register_model", "tiny", architecture="yeast", weights=[tiny_yeast_dir], genome="mini"
    )
    return Predictor.objects.get(name="tiny")


def test_it_writes_one_bigwig_per_track_over_a_whole_contig(tiny_model, tmp_path):
    call_command("predict_tracks", model="tiny", region="chrI", out=tmp_path)
    paths = sorted(tmp_path.glob("*.bw"))
    assert len(paths) == 12
    model = runtime.ensemble(tiny_model.spec())
    expected = predict_region(model, Genome(tiny_model.genome.fasta_file), Interval("I", 0, 6000))
    column = [t.identifier for t in tiny_model.tracks.order_by("index")].index(
        "stripeseq_S288C_WT_2.minus"
    )
    bw = pyBigWig.open(str(tmp_path / "stripeseq_S288C_WT_2.minus.bw"))
    assert bw.chroms() == {"I": 6000, "II": 4000}
    values = np.array(bw.stats("I", 0, 5984, type="mean", nBins=187))
    np.testing.assert_allclose(values, expected[:187, column], rtol=1e-4, atol=1e-5)


def test_a_region_is_widened_to_the_bin_grid(tiny_model, tmp_path):
    call_command(
        "predict_tracks",
        model="tiny",
        region="I:1,001-2,000",
        tracks=["stripeseq_S288C_WT_1.plus"],
        out=tmp_path,
    )
    bw = pyBigWig.open(str(tmp_path / "stripeseq_S288C_WT_1.plus.bw"))
    intervals = bw.intervals("I")
    assert intervals[0][0] == 992 and intervals[-1][1] == 2016  # 31 bins of 32 bp
    assert len(intervals) <= 32


@pytest.mark.parametrize(
    "region, message",
    [
        ("chr9", "contig 'chr9' is not in mini"),
        ("I:5,000-9,000", "runs past the end of I"),
        ("I:nonsense", "is not a region"),
    ],
)
def test_bad_regions_get_clear_errors(tiny_model, tmp_path, region, message):
    with pytest.raises(CommandError, match=message):
        call_command("predict_tracks", model="tiny", region=region, out=tmp_path)


def test_tampered_weights_are_refused(tiny_model, tmp_path):
    weights = tiny_model.spec()["replicates"][0]["path"] + "/model.safetensors"
    with open(weights, "ab") as handle:
        handle.write(b"tampered")
    runtime._CACHE.clear()
    with pytest.raises(CommandError, match="do not match the registered sha256"):
        call_command("predict_tracks", model="tiny", region="I", out=tmp_path)
