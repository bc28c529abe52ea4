"""Stability measures of variant effects: agreement figures, promoter SNVs, and the plumbing of
shift, placement and replicate comparisons on the tiny model."""

from pathlib import Path

import numpy as np
import pytest

from engine.io.annotation import read_genes
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter
from engine.variants.stability import (
    agreement,
    gene_agreement,
    promoter_snvs,
    replicate_agreement,
    stability,
)

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
