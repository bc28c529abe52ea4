"""The variant tracks job's bigWigs: predictions in reads per base, on the observed scale."""

import numpy as np
import pyBigWig
import pytest

from engine.io.bigwig import COVERAGE_UNIT
from engine.io.vcf import Variant
from engine.models.base import Track, TrackTable
from engine.pipeline.tracks import per_base, write_variant_tracks
from tests.engine.hand_models import CountingModel

BINS, WIDTH = 12, 16  # the counting model: 12 output bins of 16 bp


@pytest.fixture
def random_fasta(tmp_path):
    sequence = "".join(np.random.default_rng(5).choice(list("ACGT"), 2000))
    path = tmp_path / "random.fa"
    path.write_text(f">T\n{sequence}\n")
    return path, sequence


def gc_per_bin(sequence: str) -> np.ndarray:
    """The counting model's ``gc`` track on paper: G + C in each 16 bp bin."""
    is_gc = np.array([base in "GC" for base in sequence], dtype=np.float64)
    return is_gc.reshape(BINS, WIDTH).sum(axis=1)


def test_a_prediction_is_written_as_its_bins_reads_over_their_width(random_fasta, tmp_path):
    path, sequence = random_fasta
    alt_base = "A" if sequence[1000] in "GC" else "G"  # the variant's bin loses or gains one
    variant = Variant("T", 1000, sequence[1000], alt_base, "snv", 1)
    out = tmp_path / "out"
    out.mkdir()
    interval, files = write_variant_tracks(CountingModel(), path, variant, [0], out)
    # window start (1000 − 128) on the 16 bp grid = 864; output after the 32 bp crop: 896-1088
    assert (interval.start, interval.end) == (896, 1088)
    ref_bins = gc_per_bin(sequence[896:1088])
    edited = sequence[:1000] + alt_base + sequence[1001:]
    alt_bins = gc_per_bin(edited[896:1088])
    written = {}
    for label in ("ref", "alt", "delta"):
        bw = pyBigWig.open(str(out / f"{label}.gc.bw"))
        written[label] = np.array(bw.values("T", 896, 1088))  # (192,) one value per base
        bw.close()
    np.testing.assert_allclose(written["ref"], np.repeat(ref_bins / WIDTH, WIDTH), atol=1e-6)
    np.testing.assert_allclose(written["alt"], np.repeat(alt_bins / WIDTH, WIDTH), atol=1e-6)
    np.testing.assert_allclose(
        written["delta"], np.repeat((alt_bins - ref_bins) / WIDTH, WIDTH), atol=1e-6
    )
    # summed over a bin's bases, the per-base values give the bin's predicted reads back
    np.testing.assert_allclose(written["ref"].reshape(BINS, WIDTH).sum(axis=1), ref_bins, atol=1e-5)
    assert all(description.endswith(f"({COVERAGE_UNIT})") for _, description in files)


def test_a_track_of_mean_coverage_is_already_per_base():
    model = CountingModel()
    model.tracks = TrackTable(
        [Track("summed", strand_pair=0), Track("mean", strand_pair=1, sum_stat="mean")]
    )
    values = np.array([[32.0, 2.0], [16.0, 1.0]], dtype=np.float32)  # (bins, T)
    np.testing.assert_allclose(per_base(values, model, [0, 1]), [[2.0, 2.0], [1.0, 1.0]])
