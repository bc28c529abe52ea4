"""The motif-recovery proxy: promoters, the dinucleotide shuffle, stretch counting."""

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.interpret.motif_recovery import (
    SiteCaller,
    dinucleotide_shuffle,
    genome_background,
    motif_recovery,
    promoter,
    promoter_matrices,
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


def test_recovered_counts_the_segments_holding_a_site_and_what_chance_would_give():
    sites = [(30, 38), (60, 64)]
    segments = [(28, 40), (80, 92)]  # the first holds the 30-38 site, the second nothing
    result = recovered(segments, sites, 100)
    assert (result.segments, result.matched, result.fraction) == (2, 1, 0.5)
    # a 12-bp stretch at each of its 89 places holds the 8-bp site (half of it at least) at
    # starts 22 … 34 (13 places) and the 4-bp one at 50 … 62 (13 places)
    assert result.chance == pytest.approx(2 * (13 + 13) / 89)


def test_the_site_caller_calls_at_its_false_positive_rate_and_finds_tata_boxes():
    rng = np.random.default_rng(0)
    background = "".join(rng.choice(list("ACGT"), 200_000, p=[0.31, 0.19, 0.19, 0.31]))
    counts = np.array([[9, 0, 0, 0], [0, 9, 0, 0], [0, 0, 9, 0], [0, 0, 0, 9]] * 2, dtype=float)
    wide = pwm_from_counts("M1", "ACGTACGT", counts)  # 8 bp: max score reached ~1.5e-5
    short = pwm_from_counts("M2", "AC", counts[:2])  # 2 bp: reached every ~16 bp
    caller = SiteCaller.calibrated([wide, short], background, p=1e-3)
    assert [m.name for m in caller.matrices] == ["ACGTACGT"] and caller.too_short == ["AC"]
    calls = caller.site_spans(background[:50_000].replace("TATA", "CCCC"))
    assert 0 < len(calls) <= 2 * 50_000 * 1e-3  # scores are discrete: at most p
    planted = "G" * 20 + "ACGTACGT" + "G" * 10 + "TATAAAAG" + "G" * 10 + "CTTTTATA" + "G" * 10
    assert caller.site_spans(planted) == [(20, 28), (38, 46), (56, 64)]


def test_motif_recovery_runs_real_and_shuffled_ism_on_the_tiny_model(tiny_yeast_dir):
    from engine.interpret.motifs import load_matrices

    genome = Genome(DATA / "mini.fa.gz")
    genes = sample_genes(read_genes(DATA / "mini.gff3"), genome, ["I", "II"], 2)
    matrices = promoter_matrices(load_matrices("fungi"))
    assert {m.name for m in matrices} >= {"SPT15", "REB1", "ABF1", "RAP1", "MCM1"}
    caller = SiteCaller.calibrated(matrices, genome.fetch(Interval("I", 0, 5000)), p=1e-2)
    result = motif_recovery(Ensemble([YeastAdapter(tiny_yeast_dir)]), genome, genes, caller)
    assert result["genes"] == 2 and len(result["per_gene"]) == 2
    assert result["segments"] == sum(g["segments"] for g in result["per_gene"])
    assert result["factors"][0] == "TATAWAWR"


def test_a_background_needs_a_contig_long_enough_to_sample():
    genome = Genome(DATA / "mini.fa.gz")  # contigs of 6 and 4 kb
    with pytest.raises(ValueError, match="long enough"):
        genome_background(genome)
