"""ISM and saliency: against hand computations, finite differences, and each other."""

import copy
import math

import numpy as np
import pytest
import torch

from engine.interpret.ism import ism
from engine.interpret.ism_rules import ism_passes
from engine.interpret.objectives import gene_objective, track_objective
from engine.interpret.saliency import peak_window, saliency
from engine.io.annotation import Exon, Gene
from engine.io.encoding import one_hot
from engine.io.intervals import Interval
from engine.models.base import EXONS, GeneRegion
from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter
from tests.engine.hand_models import CountingModel

REPEAT = "ACGT" * 64  # 256 bp: the counting model's input
WINDOW = Interval("T", 0, 256)  # its output bins are T:32-224, 12 bins of 16 bp
GC = np.array([0, 1, 1, 0])  # is the base G or C (A, C, G, T order)


@pytest.fixture
def counting() -> CountingModel:
    return CountingModel()


@pytest.mark.parametrize("log", [False, True])
def test_ism_equals_the_hand_computation(counting, log):
    """Track gc counts G + C per bin; a base outside the output bins changes nothing."""
    objective = track_objective(counting, WINDOW, [0], log=log)
    result = ism(counting, one_hot(REPEAT), objective, 24, 40, batch_size=7)
    total = 96  # G + C in the 192 output bp
    expected = np.zeros((16, 4))
    for row, position in enumerate(range(24, 40)):
        ref = "ACGT".index(REPEAT[position])
        for base in range(4):
            delta = (GC[base] - GC[ref]) if position >= 32 else 0
            expected[row, base] = (
                math.log2(total + 1 + delta) - math.log2(total + 1) if log else delta
            )
    np.testing.assert_allclose(result.effects, expected, atol=1e-6)
    assert result.reference == pytest.approx(math.log2(97) if log else 96)
    assert result.forward_passes == 16 * 3


def test_ism_over_a_bin_range_only_sees_mutations_there(counting):
    objective = track_objective(counting, WINDOW, [0], over=Interval("T", 64, 96), log=False)
    assert objective.bins.tolist() == [False, False, True, True] + [False] * 8
    result = ism(counting, one_hot(REPEAT), objective, 0, 256)
    moved = np.flatnonzero(np.abs(result.effects).sum(axis=1))
    assert moved.min() == 64 and moved.max() == 95


def test_every_base_of_an_n_is_a_mutant(counting):
    sequence = REPEAT[:100] + "N" + REPEAT[101:]
    objective = track_objective(counting, WINDOW, [0], log=False)
    result = ism(counting, one_hot(sequence), objective, 100, 101)
    assert result.effects.tolist() == [[0, 1, 1, 0]] and result.forward_passes == 4


def test_a_stretch_outside_the_window_is_refused(counting):
    objective = track_objective(counting, WINDOW, [0])
    with pytest.raises(ValueError, match="outside the 256 bp"):
        ism(counting, one_hot(REPEAT), objective, 250, 260)


def test_an_objective_range_outside_the_output_is_refused(counting):
    with pytest.raises(ValueError, match="outside the predicted T:33-224"):
        track_objective(counting, WINDOW, [0], over=Interval("T", 0, 20))


def test_saliency_equals_the_hand_computation(counting):
    """gc is linear: its gradient is 1 for C and G inside the output bins, 0 elsewhere;
    centred over the bases, ±0.5; log2(1 + sum) scales it by 1 / (97 ln 2)."""
    objective = track_objective(counting, WINDOW, [0], log=True)
    result = saliency(counting, one_hot(REPEAT), objective)
    scale = 1 / (97 * math.log(2))
    expected = np.zeros((256, 4))
    expected[32:224] = (GC - 0.5) * scale
    np.testing.assert_allclose(result.gradient, expected, atol=1e-7)
    reference_bases = np.array(["ACGT".index(b) for b in REPEAT])
    np.testing.assert_allclose(result.contribution, expected[np.arange(256), reference_bases])


def random_window(length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return one_hot("".join(rng.choice(list("ACGT"), length)))


@pytest.fixture
def tiny(tiny_yeast_dir) -> Ensemble:
    return Ensemble([YeastAdapter(tiny_yeast_dir)], reverse_complement=True, shifts=(0, 1))


def test_the_fast_ism_path_equals_the_plain_one(tiny):
    window = Interval("I", 0, tiny.sequence_length)
    objective = track_objective(tiny, window, [0, 1, 4], over=Interval("I", 400, 600))
    onehot = random_window(tiny.sequence_length, 2)
    stretches = [(0, 24), (500, 532), (1000, 1024)]  # both edges and the middle
    for first, last in stretches:
        fast = ism(tiny, onehot, objective, first, last, fast=True, batch_size=16)
        plain = ism(tiny, onehot, objective, first, last, fast=False, batch_size=16)
        np.testing.assert_allclose(fast.effects, plain.effects, rtol=1e-4, atol=1e-6)
        assert np.abs(plain.effects).max() > 1e-3  # far above the tolerance
        assert (fast.effects[one_hot_rows(onehot, first, last)] == 0).all()


def one_hot_rows(onehot: np.ndarray, first: int, last: int):
    """Index of the reference bases of ``[first, last)`` in an ISM matrix."""
    return np.arange(last - first), onehot[first:last].argmax(axis=1)


def test_ism_agrees_with_predicting_each_mutant_whole(tiny):
    """One mutant by hand: edit the sequence, predict it, take the objective's difference."""
    window = Interval("I", 0, tiny.sequence_length)
    objective = track_objective(tiny, window, [2, 3])
    onehot = random_window(tiny.sequence_length, 5)
    result = ism(tiny, onehot, objective, 510, 514)
    mutant = onehot.copy()
    mutant[512] = np.eye(4, dtype=np.float32)[(onehot[512].argmax() + 2) % 4]
    with torch.inference_mode():
        values = objective(tiny.predict(torch.from_numpy(np.stack([onehot, mutant])), [2, 3]))
    by_hand = float(values[1] - values[0])
    assert result.effects[2, (onehot[512].argmax() + 2) % 4] == pytest.approx(by_hand, rel=1e-4)


def test_saliency_agrees_with_finite_differences(tiny_yeast_dir):
    """Central differences in float64 on a copy of the model, at 12 random positions."""
    adapter = YeastAdapter(tiny_yeast_dir)
    double = copy.deepcopy(adapter.model).double()
    window = Interval("I", 0, adapter.sequence_length)
    tracks = [0, 1]
    objective = track_objective(adapter, window, tracks, over=Interval("I", 300, 700))
    onehot = random_window(adapter.sequence_length, 9)
    result = saliency(adapter, onehot, objective)

    x, eps = torch.from_numpy(onehot).double(), 1e-4
    positions = np.random.default_rng(0).integers(200, 800, 12)
    differences = np.zeros((len(positions), 4))
    with torch.inference_mode():
        for row, position in enumerate(positions):
            for base in range(4):
                step = torch.zeros_like(x)
                step[position, base] = eps
                values = objective(double(torch.stack([x + step, x - step]))[:, :, tracks])
                differences[row, base] = float(values[0] - values[1]) / (2 * eps)
    centred = differences - differences.mean(axis=1, keepdims=True)
    assert np.abs(centred).max() > 1e-4
    np.testing.assert_allclose(result.gradient[positions], centred, rtol=1e-3, atol=1e-7)


def test_the_gene_objective_of_an_rna_model_takes_its_strand_and_exon_bins(tiny):
    tiny.gene_region = EXONS
    window = Interval("I", 1000, 1000 + tiny.sequence_length)  # output I:1128-1896, 24 bins
    exons = (Exon(1200, 1300), Exon(1400, 1500))
    gene = Gene("YAL001C", "ABC1", "I", 1200, 1500, "-", "protein_coding", exons)
    objective = gene_objective(tiny, window, gene)
    minus = [i for i, t in enumerate(tiny.tracks.tracks) if t.strand == "-"]
    assert objective.tracks == minus
    # exon bins: round((1200 − 1128) / 32) = 2 … round(172 / 32) = 5; 272/32 → 8 … 372/32 → 12
    assert np.flatnonzero(objective.bins).tolist() == [2, 3, 4, 8, 9, 10, 11]
    assert "ABC1" in objective.description


def test_the_gene_objective_of_a_tss_model_takes_the_window_before_the_genes_start(tiny):
    assert tiny.gene_region == GeneRegion(300, 50)  # what training writes for STRIPE-seq
    window = Interval("I", 1000, 1000 + tiny.sequence_length)  # output I:1128-1896, 24 bins
    exons = (Exon(1200, 1300), Exon(1400, 1500))
    gene = Gene("YAL001C", "ABC1", "I", 1200, 1500, "-", "protein_coding", exons)
    objective = gene_objective(tiny, window, gene)
    # − strand: start 1499, window I:1450-1800 → bins (1450 − 1128) // 32 = 10 … ⌈672 / 32⌉ = 21
    assert np.flatnonzero(objective.bins).tolist() == list(range(10, 21))
    assert "300 bp before its start" in objective.description


@pytest.mark.parametrize("region, where", [(EXONS, "exons"), (GeneRegion(300, 50), "start window")])
def test_a_gene_outside_the_window_is_refused(tiny, region, where):
    tiny.gene_region = region
    gene = Gene("YAL002W", "FAR", "I", 50_000, 51_000, "+", "", (Exon(50_000, 51_000),))
    with pytest.raises(ValueError, match=f"none of FAR's {where} is in"):
        gene_objective(tiny, Interval("I", 0, tiny.sequence_length), gene)


def test_the_focused_ism_stretch_sits_on_the_saliency_peak():
    contribution = np.zeros(1000)
    contribution[600:610] = -1.0
    assert peak_window(contribution, 192) == (508, 700)  # the first smoothed maximum, 604
    assert peak_window(np.r_[np.ones(5), np.zeros(995)], 192) == (0, 192)  # kept inside


def test_the_cost_counts_three_mutants_per_base_and_the_reference():
    assert ism_passes(192, per_pass=2) == (3 * 192 + 1) * 2


def test_attention_rows_are_distributions_of_one_head_or_their_mean(tiny):
    from engine.interpret.attention import attention_map

    onehot = random_window(tiny.sequence_length, 4)
    mean = attention_map(tiny, onehot, 1, None)
    first = attention_map(tiny, onehot, 1, 0)
    second = attention_map(tiny, onehot, 1, 1)
    assert mean.weights.shape == (8, 8) and mean.token_bp == 128 and mean.heads == 2
    np.testing.assert_allclose(mean.weights.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(mean.weights, (first.weights + second.weights) / 2, rtol=1e-5)


@pytest.mark.parametrize(
    "layer, head, message",
    [(2, None, "attention layers 1 to 2; asked for 3"), (0, 2, "heads 1 to 2; asked for 3")],
)
def test_attention_of_a_layer_or_head_the_model_lacks_is_refused(tiny, layer, head, message):
    from engine.interpret.attention import attention_map

    with pytest.raises(ValueError, match=message):
        attention_map(tiny, random_window(tiny.sequence_length, 4), layer, head)


def test_the_attention_figure_has_a_clickable_row_per_token_and_escaped_gene_names():
    from engine.interpret.figures import attention_svg

    weights = np.full((8, 8), 1 / 8, dtype=np.float32)
    gene = Gene("Y<1>", "A&B", "I", 100, 400, "+", "", (Exon(100, 400),))
    svg = attention_svg(weights, Interval("I", 0, 1024), [gene], "layer 1 <mean>")
    assert svg.count('<g class="row"') == 8 and 'data-row="7" data-start="896"' in svg
    assert "A&amp;B" in svg and "layer 1 &lt;mean&gt;" in svg and "<mean>" not in svg


def test_a_large_map_is_averaged_into_blocks():
    from engine.interpret.figures import MAX_CELLS, attention_svg

    weights = np.random.default_rng(0).random((4 * MAX_CELLS, 4 * MAX_CELLS)).astype(np.float32)
    svg = attention_svg(weights, Interval("I", 0, 4 * MAX_CELLS * 128), [], "big")
    assert svg.count('<g class="row"') == MAX_CELLS
    assert f'data-row="{4 * (MAX_CELLS - 1)}"' in svg  # rows name their first token
