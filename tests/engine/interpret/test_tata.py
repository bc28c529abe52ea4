"""The TATA-box proxy: upstream regions, TATAWAWR on either strand, ranks, and the whole ISM."""

from pathlib import Path

import numpy as np

from engine.interpret.tata import importance_ranks, tata_boxes, tata_rank, upstream_region
from engine.io.annotation import Gene, read_genes
from engine.io.encoding import reverse_complement
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter

DATA = Path(__file__).resolve().parents[2] / "data"


def test_the_upstream_region_lies_before_the_start_on_the_genes_strand():
    plus = Gene("g1", "G1", "I", 1000, 2000, "+", "gene", ())
    minus = Gene("g2", "G2", "I", 1000, 2000, "-", "gene", ())
    assert upstream_region(plus) == Interval("I", 808, 1000)
    assert upstream_region(minus) == Interval("I", 2000, 2192)


def test_a_tata_box_is_found_on_the_plus_and_on_the_minus_strand():
    region = Interval("VII", 100, 140)
    sequence = "C" * 10 + "TATAAAAG" + "C" * 22
    assert tata_boxes(region, sequence, "+") == [Interval("VII", 110, 118)]
    assert tata_boxes(region, sequence, "-") == []
    flipped = reverse_complement(sequence)  # the box now reads on the minus strand
    assert tata_boxes(region, flipped, "-") == [Interval("VII", 122, 130)]
    assert tata_boxes(region, "TATATATA" + "C" * 32, "+") == [Interval("VII", 100, 108)]


def test_ranks_put_the_most_important_position_first():
    assert importance_ranks(np.array([0.1, 0.9, -0.5, 0.3])).tolist() == [3, 1, 4, 2]


def test_tata_rank_runs_the_ism_of_the_upstream_region(tiny_yeast_dir):
    genome = Genome(DATA / "mini.fa.gz")
    pau8 = next(g for g in read_genes(DATA / "mini.gff3") if g.name == "PAU8")
    result = tata_rank(Ensemble([YeastAdapter(tiny_yeast_dir)]), genome, pau8)
    assert result["gene"] == "PAU8" and result["positions"] == 192
    assert result["region"] == upstream_region(pau8).readable()
    for rank in result["tata_boxes"].values():
        assert 1 <= rank <= 192
    assert result["best_rank"] == min(result["tata_boxes"].values(), default=None)
