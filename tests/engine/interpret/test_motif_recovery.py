"""The motif-recovery proxy: promoters, the dinucleotide shuffle, stretch counting."""

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.interpret.motif_recovery import (
    dinucleotide_shuffle,
    motif_recovery,
    promoter,
    recovered,
    sample_genes,
)
from engine.interpret.motifs import pwm_from_counts
from engine.io.annotation import Gene, read_genes
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter

DATA = Path(__file__).resolve().parents[2] / "data"


def dinucleotides(sequence: str) -> Counter:
    return Counter(zip(sequence, sequence[1:], strict=False))


@pytest.mark.parametrize("seed", range(20))
def test_the_shuffle_keeps_the_first_letter_and_every_dinucleotide_count(seed):
    rng = random.Random(seed)
    sequence = "".join(rng.choice("ACGT") for _ in range(rng.randrange(3, 200)))
    shuffled = dinucleotide_shuffle(sequence, random.Random(seed + 100))
    assert shuffled[0] == sequence[0] and len(shuffled) == len(sequence)
    assert dinucleotides(shuffled) == dinucleotides(sequence)


def test_the_shuffle_moves_a_motif_and_repeats_with_its_seed():
    sequence = "ACGTTGCA" * 10 + "TATAAAAG" + "CAGTGACT" * 10
    first = dinucleotide_shuffle(sequence, random.Random(1))
    assert first != sequence and first == dinucleotide_shuffle(sequence, random.Random(1))


def test_a_promoter_is_300_bp_upstream_and_50_downstream_on_the_genes_strand():
    assert promoter(Gene("g", "G", "I", 1000, 2000, "+", "gene", ())) == Interval("I", 700, 1050)
    assert promoter(Gene("g", "G", "I", 1000, 2000, "-", "gene", ())) == Interval("I", 1950, 2300)


def test_recovered_counts_the_stretches_a_matrix_matches():
    rng = np.random.default_rng(0)
    stretch = "".join(rng.choice(list("ACGT"), 120))
    stretch = stretch[:30] + "TATAAAAG" + stretch[38:80] + "CCCCCCCC" + stretch[88:]
    counts = np.array([[0, 0, 0, 9], [9, 0, 0, 0], [0, 0, 0, 9], [9, 0, 0, 0]])  # TATA
    importance = rng.normal(0, 0.01, 120)
    importance[30:38] += 1.0  # a TATA-shaped stretch
    importance[80:88] += 1.0  # a stretch no matrix describes
    result = recovered(stretch, importance, [pwm_from_counts("M1", "tata", counts.astype(float))])
    assert (result.segments, result.matched) == (2, 1) and result.fraction == 0.5


def test_motif_recovery_runs_real_and_shuffled_ism_on_the_tiny_model(tiny_yeast_dir):
    from engine.interpret.motifs import load_matrices

    genome = Genome(DATA / "mini.fa.gz")
    genes = sample_genes(read_genes(DATA / "mini.gff3"), genome, ["I", "II"], 2)
    result = motif_recovery(
        Ensemble([YeastAdapter(tiny_yeast_dir)]), genome, genes, load_matrices("fungi")
    )
    assert result["genes"] == 2 and result["segments"] >= 0 and result["shuffled_segments"] >= 0
