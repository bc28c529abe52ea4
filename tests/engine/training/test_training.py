"""The training data pipeline and the model card's measures, on small hand-made inputs."""

import numpy as np
import pytest
import torch

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


def _random_chromosome(length: int, seed: int = 0) -> YeastData:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, length).astype(np.uint8)
    counts = rng.poisson(1.0, (length // 32, 12)).astype(np.float32)
    return YeastData({"I": codes}, {"I": counts})


def test_copies_of_a_window_share_targets_and_differ_only_by_their_jitter():
    config = YeastNetConfig(sequence_length=256, crop_bp=64)
    data = _random_chromosome(4096)
    x, y = sample_batch(data, ["I"], config, 6, np.random.default_rng(4), jitter_bp=5, copies=2)
    assert x.shape == (12, 256, 4) and y.shape == (6, 4, 12)
    first, second = x[:6].argmax(-1).numpy(), x[6:].argmax(-1).numpy()
    matches = 0
    for a, b in zip(first, second, strict=True):
        # the second copy is the first moved by some d in [-10, 10] bp (either strand)
        offsets = [d for d in range(-10, 11) if (np.roll(a, d)[12:-12] == b[12:-12]).all()]
        assert offsets, "a copy is not a shifted version of its window"
        matches += offsets != [0]
    assert matches >= 3  # independent jitter moves most copies


def test_without_jitter_the_copies_are_identical_and_one_copy_is_the_old_batch():
    config = YeastNetConfig(sequence_length=256, crop_bp=64)
    data = _random_chromosome(4096)
    x, y = sample_batch(data, ["I"], config, 4, np.random.default_rng(9), copies=2)
    assert torch.equal(x[:4], x[4:])
    single, same_y = sample_batch(data, ["I"], config, 4, np.random.default_rng(9))
    assert torch.equal(single, x[:4]) and torch.equal(same_y, y)


def test_the_paired_loss_adds_the_weighted_spread_of_the_copies():
    from engine.training.train import loss_fn, paired_loss

    observed = torch.tensor([[[1.0, 3.0]]])  # (1, 1, 2)
    a, b = torch.tensor([[[2.0, 3.0]]]), torch.tensor([[[1.0, 7.0]]])
    assert paired_loss(a, observed, 0.5) == pytest.approx(float(loss_fn(a, observed)))
    fit = (loss_fn(a, observed) + loss_fn(b, observed)) / 2
    spread = torch.mean((torch.log1p(a) - torch.log1p(b)) ** 2)
    both = paired_loss(torch.cat([a, b]), observed, 0.5)
    assert both == pytest.approx(float(fit + 0.5 * spread))
    assert paired_loss(torch.cat([a, b]), observed, 0.0) == pytest.approx(float(fit))


@pytest.fixture
def small_genome(monkeypatch):
    """Training reads random 2 kb chromosomes: one to train on, the validation ones."""
    from engine.training import train as training

    chroms = {name: _random_chromosome(2048, seed=i) for i, name in enumerate(("I", *VALID_CHROMS))}
    data = YeastData(
        {name: d.codes["I"] for name, d in chroms.items()},
        {name: d.counts["I"] for name, d in chroms.items()},
    )
    monkeypatch.setattr(training.YeastData, "load", classmethod(lambda cls, path: data))


def test_a_short_run_with_paired_copies_fits_its_schedule_and_keeps_the_best_epoch(
    tmp_path, monkeypatch, small_genome
):
    import json

    from engine.training import train as training

    monkeypatch.setattr(training, "epochs_that_fit", lambda planned, budget, minutes: 3)
    args = training.parse_args(
        ["--out", str(tmp_path / "run"), "--epochs", "9", "--fit-minutes", "5"]
        + ["--sequence-length", "256", "--crop-bp", "64", "--batch-size", "2"]
        + ["--jitter-bp", "16", "--consistency", "1", "--pool", "blur"]
    )
    training.train(args)
    summary = json.loads((tmp_path / "run" / "training.json").read_text())
    assert summary["planned_epochs"] == 3 and len(summary["history"]) == 3
    assert 1 <= summary["best_epoch"] <= 3
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["pool"] == "blur" and config["sequence_length"] == 256


def test_epochs_that_fit_the_budget():
    from engine.training.train import epochs_that_fit

    assert epochs_that_fit(70, budget_minutes=7.0, epoch_minutes=0.05) == 70
    assert epochs_that_fit(70, budget_minutes=7.0, epoch_minutes=0.2) == 35
    assert epochs_that_fit(70, budget_minutes=0.1, epoch_minutes=1.0) == 2


def test_a_run_from_init_starts_at_those_weights_and_records_what_scores_its_genes(
    tmp_path, small_genome
):
    import json

    from safetensors.torch import load_file

    from engine.training import train as training
    from engine.training.train import save_checkpoint

    geometry = ["--sequence-length", "256", "--crop-bp", "64", "--batch-size", "2"]
    torch.manual_seed(3)
    start = training.YeastNet(training.YeastNetConfig(sequence_length=256, crop_bp=64))
    save_checkpoint(start.eval(), tmp_path / "start", {"note": "init"})
    args = training.parse_args(
        ["--out", str(tmp_path / "run"), "--epochs", "1", "--lr", "0", "--weight-decay", "0"]
        + geometry
        + ["--init-from", str(tmp_path / "start"), "--pool", "blur"]
    )
    training.train(args)
    before, after = (
        load_file(tmp_path / "start" / "model.safetensors"),
        load_file(tmp_path / "run" / "model.safetensors"),
    )
    convs = [k for k in before if k.endswith("conv.weight")]
    assert convs and all(torch.equal(before[k], after[k]) for k in convs)  # lr 0: unchanged
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["pool"] == "blur"
    assert config["gene_region"] == {"upstream": 300, "downstream": 50}
    summary = json.loads((tmp_path / "run" / "training.json").read_text())
    assert summary["precision"] == "float32"  # no bf16 autocast on a CPU
