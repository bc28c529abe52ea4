"""The training data pipeline and the model card's measures, on small hand-made inputs."""

import numpy as np
import pytest

from engine.io.annotation import Exon, Gene
from engine.io.encoding import base_codes
from engine.models.yeast_net import YeastNetConfig
from engine.training.data import (
    TEST_CHROMS,
    VALID_CHROMS,
    YeastData,
    strand_pairs,
    track_ids,
    train_chroms,
    window_codes,
)
from engine.training.evaluate import tss_distance
from engine.training.metrics import gene_sums, gene_window_bins, log_pearson, sample_pearsons
from engine.training.train import learning_rate, sample_batch


def gene(strand: str, start: int, end: int, chrom: str = "XII") -> Gene:
    return Gene("G", "G", chrom, start, end, strand, "gene", (Exon(start, end),))


def test_the_split_keeps_test_and_validation_out_of_training():
    chroms = [
        "I",
        "II",
        "III",
        "IV",
        "V",
        "VI",
        "VII",
        "VIII",
        "IX",
        "X",
        "XI",
        "XII",
        "XIII",
        "XIV",
        "XV",
        "XVI",
    ]
    train = train_chroms(chroms)
    assert len(train) == 10 and not set(train) & set(TEST_CHROMS + VALID_CHROMS)


def test_tracks_pair_plus_with_minus_of_the_same_sample():
    ids, pairs = track_ids(), strand_pairs()
    assert len(ids) == 12
    for i, j in enumerate(pairs):
        assert ids[i].rsplit(".", 1)[0] == ids[j].rsplit(".", 1)[0] and ids[i] != ids[j]


def test_windows_off_the_chromosome_read_as_n():
    codes = base_codes("ACGTACGT")
    assert window_codes(codes, -2, 5).tolist() == [4, 4, 0, 1, 2]
    assert window_codes(codes, 6, 4).tolist() == [2, 3, 4, 4]


def test_a_reverse_complemented_training_window_swaps_strands():
    """Build a chromosome whose + track marks one bin; in a reverse-complemented window the mark
    must move to the − track at the mirrored bin, and the sequence must be complemented."""
    config = YeastNetConfig(sequence_length=256, crop_bp=64)  # 4 output bins
    length = 256
    counts = np.zeros((length // 32, 12), dtype=np.float32)
    counts[2, 0] = 7.0  # bin 2 of WT_1.plus
    data = YeastData({"I": base_codes("A" * length)}, {"I": counts})
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        x, y = sample_batch(data, ["I"], config, 1, rng)
        if y.sum() == 0:
            continue
        bins, track = (int(v) for v in np.argwhere(y[0].numpy() == 7.0)[0])
        base = int(x[0, 100].argmax())
        seen.add((track, base))
        if track == 1:  # the minus strand: sequence is all T (reverse complement of A)
            assert base == 3
        else:
            assert track == 0 and base == 0
    assert seen == {(0, 0), (1, 3)}


def test_log_pearson_is_pearson_of_log1p():
    a, b = np.array([0, 1, 10, 100.0]), np.array([0, 2, 9, 120.0])
    assert log_pearson(a, b) == pytest.approx(np.corrcoef(np.log1p(a), np.log1p(b))[0, 1])


def test_sample_pearsons_put_both_strands_of_a_sample_together():
    ids = track_ids()
    rng = np.random.default_rng(1)
    observed = {"XII": rng.poisson(2, (50, 12)).astype(float)}
    predicted = {"XII": observed["XII"].copy()}
    predicted["XII"][:, 1] = rng.poisson(2, 50)  # WT_1 minus is wrong, WT_1 plus is perfect
    scores = sample_pearsons(observed, predicted, ["XII"], ids)
    assert scores["stripeseq_S288C_WT_2"] == pytest.approx(1.0)
    assert 0 < scores["stripeseq_S288C_WT_1"] < 1


def test_the_gene_window_is_300_up_and_50_down_on_the_gene_strand():
    assert gene_window_bins(gene("+", 1000, 2000), 32) == (21, 33)  # [700, 1050)
    assert gene_window_bins(gene("-", 1000, 2000), 32) == (60, 72)  # [1950, 2300)


def test_gene_sums_read_the_gene_strand():
    binned = {"XII": np.zeros((100, 12))}
    binned["XII"][25, 0] = 5  # WT_1 plus, inside the + gene's window
    binned["XII"][25, 1] = 100  # WT_1 minus: the other strand, must be ignored
    sums = gene_sums(binned, [gene("+", 1000, 2000)], track_ids(), 32)
    assert sums[0, 3] == 5  # samples sorted: D_1, D_2, D_3, WT_1, ...


def test_distance_to_tss_is_signed_by_strand():
    plus = tss_distance(10, [gene("+", 160, 400)], "+")  # start bin 5
    assert plus.tolist()[3:8] == [-2, -1, 0, 1, 2]
    minus = tss_distance(10, [gene("-", 0, 192)], "-")  # start bin (192 - 1) // 32 = 5
    assert minus.tolist()[3:8] == [2, 1, 0, -1, -2]


def test_warmup_then_cosine_schedule():
    assert learning_rate(0, 100, 1.0, 10) == pytest.approx(0.1)
    assert learning_rate(10, 100, 1.0, 10) == pytest.approx(1.0)
    assert learning_rate(100, 100, 1.0, 10) == pytest.approx(0.0)
