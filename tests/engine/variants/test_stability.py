"""Stability measures of variant effects: agreement figures, promoter SNVs, and the plumbing of
shift, placement and replicate comparisons on the tiny model."""

from pathlib import Path

import numpy as np
import pytest

from engine.io.annotation import read_genes
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter
from engine.variants.stability import (
    agreement,
    far_bins,
    gene_agreement,
    promoter_deletions,
    promoter_snvs,
    replicate_agreement,
    stability,
)
from tests.engine.hand_models import CountingModel

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def mini():
    genome = Genome(DATA / "mini.fa.gz")
    yield genome, read_genes(DATA / "mini.gff3")
    genome.close()


def test_agreement_of_equal_opposite_and_partly_flipped_scores():
    a = np.linspace(-1, 1, 40)
    same = agreement(a, a)
    assert same["pearson"] == 1.0 and same["sign_agreement"] == 1.0
    assert agreement(a, -a)["pearson"] == -1.0 and agreement(a, -a)["sign_agreement"] == 0.0
    b = a.copy()
    b[np.abs(a) < 0.5] *= -1  # the weak half flips, the strongest tenth keeps its sign
    mixed = agreement(a, b)
    assert mixed["sign_agreement_top10"] == 1.0 and mixed["sign_agreement"] == pytest.approx(0.5)


def test_agreement_leaves_out_unscored_entries():
    a, b = np.array([0.1, np.nan, 0.3, -0.2]), np.array([0.2, 5.0, 0.5, -0.1])
    assert agreement(a, b)["sign_agreement"] == 1.0


def test_promoter_snvs_sit_upstream_of_their_gene_start_on_the_right_strand(mini):
    genome, genes = mini
    variants = promoter_snvs(genome, genes, ["I"], 50, seed=1, upstream=300, downstream=50)
    assert len(variants) == 50 and all(v.chrom == "I" for v in variants)
    assert variants == sorted(variants, key=lambda v: v.start)
    starts = {g.gene_id: g for g in genes if g.chrom == "I"}
    for variant in variants:
        assert genome.fetch(Interval("I", variant.start, variant.start + 1)) == variant.ref
        assert variant.alt != variant.ref and variant.alt in "ACGT"
        # upstream is lower coordinates on +, higher on − (PAU8 is on −)
        near = [
            g
            for g in starts.values()
            if -300 <= (variant.start - g.tss) * (1 if g.strand == "+" else -1) <= 50
        ]
        assert near, variant


def test_a_shift_of_zero_and_two_equal_replicates_agree_perfectly(mini, tiny_yeast_dir):
    genome, genes = mini
    variants = promoter_snvs(genome, genes, ["I", "II"], 12, seed=2)
    one = YeastAdapter(tiny_yeast_dir)
    result = stability(Ensemble([one, one]), genome, variants, shift=0)
    assert result["shift_0_vs_0"]["pearson"] == 1.0
    assert result["replicate_pearson"] == 1.0
    assert -1.0 <= result["centred_vs_shared_windows"]["pearson"] <= 1.0
    moved = stability(Ensemble([one]), genome, variants, shift=5)
    assert moved["shift_0_vs_5"]["pearson"] < 1.0 and "replicate_pearson" not in moved


def test_gene_level_logsed_agrees_with_itself_and_moves_with_a_shift(mini, tiny_yeast_dir):
    genome, genes = mini
    variants = promoter_snvs(genome, genes, ["I", "II"], 12, seed=2)
    model = Ensemble([YeastAdapter(tiny_yeast_dir)])
    same = stability(model, genome, variants, shift=0, genes=genes)["gene_logSED"]
    assert same["shift_0_vs_0"]["pearson"] == 1.0 and same["shift_0_vs_0"]["entries"] >= 12
    moved = stability(model, genome, variants, shift=5, genes=genes)["gene_logSED"]
    assert moved["shift_0_vs_5"]["pearson"] < 1.0
    assert moved["shift_0_vs_5"]["entries"] == same["shift_0_vs_0"]["entries"]


def test_gene_agreement_needs_three_shared_entries():
    assert gene_agreement({(0, 0, 0): 1.0, (1, 0, 0): 2.0}, {(0, 0, 0): 1.0}) is None
    result = gene_agreement(
        {(i, 0, 0): float(i) for i in range(4)}, {(i, 0, 0): -i for i in range(3)}
    )
    assert result["entries"] == 3 and result["pearson"] == -1.0


def test_replicates_that_differ_agree_less_than_one(mini, tiny_yeast_dir, tmp_path):
    import torch

    from engine.models.yeast_net import YeastNet
    from engine.training.train import save_checkpoint

    genome, genes = mini
    other = YeastAdapter(tiny_yeast_dir)
    torch.manual_seed(5)
    with torch.no_grad():
        for parameter in other.model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    assert isinstance(other.model, YeastNet)
    save_checkpoint(other.model, tmp_path / "other", {"note": "perturbed"})
    pair = Ensemble([YeastAdapter(tiny_yeast_dir), YeastAdapter(tmp_path / "other")])
    variants = promoter_snvs(genome, genes, ["I", "II"], 12, seed=2)
    assert replicate_agreement(pair, genome, variants) < 0.999


class GlobalGC(CountingModel):
    """CountingModel whose ``gc`` track also rises by 0.01 per G or C anywhere in the window:
    a long-range effect that reaches every bin, far ones included."""

    def predict(self, onehot, tracks=None):
        out = super().predict(onehot)
        core = onehot[:, self.crop_bp : self.sequence_length - self.crop_bp]
        out[..., 0] += core[..., 1:3].sum(dim=(1, 2))[:, None] / 100
        return out if tracks is None else out[:, :, list(tracks)]


def test_far_bins_of_a_local_model_never_move_even_for_a_stitched_deletion(mini):
    genome, genes = mini
    deletions = promoter_deletions(genome, genes, ["I"], 5, seed=3)
    assert all(len(v.ref) == 4 and v.alt == v.ref[0] for v in deletions)
    found = far_bins(CountingModel(), genome, deletions, near=2)
    assert found["variants"] == 5
    assert found["max_abs_change"]["max"] == 0 and found["D1_share"]["max"] == 0


def test_far_bins_count_a_long_range_effect(mini):
    genome, _ = mini
    # An A or T turned G in the centred window's bin 6 of 12: the gc track gains 1 in that bin
    # and 0.01 in all 12, so the 7 bins more than 2 away hold 0.07 of D1's 1.12.
    pos = next(p for p in range(500, 600) if genome.fetch(Interval("I", p, p + 1)) in "AT")
    snv = Variant("I", pos, genome.fetch(Interval("I", pos, pos + 1)), "G", "", 0)
    found = far_bins(GlobalGC(), genome, [snv], near=2)
    assert found["max_abs_change"]["max"] == pytest.approx(0.01, abs=1e-6)
    assert found["D1_share"]["max"] == pytest.approx(0.07 / 1.12, abs=1e-6)
    assert found["D2_squared_share"]["max"] == pytest.approx(7e-4 / (1.01**2 + 11e-4), rel=1e-3)
    assert found["SUM_share"]["max"] == pytest.approx(0.07 / 1.12, abs=1e-6)
