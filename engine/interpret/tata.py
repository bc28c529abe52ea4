"""Does a model know the TATA box? A proxy of variant-level quality that needs no measured
variants: ISM over the 192 bp upstream of a gene's annotated start, and the rank of its TATA box
(TATAWAWR on the gene's strand) among the positions, by importance (−mean substitution effect:
mutating an important base lowers the gene objective).

    python -m engine.interpret.tata --model data/models/yeast-demo

prints JSON for TDH3, HIS3, ADH1 and PGK1, whose TATA boxes are textbook (TDH3's at
VII:883,944-883,951).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.interpret.ism import ism
from engine.interpret.ism_rules import FOCUSED_ISM_BP, mean_substitution_effect
from engine.interpret.objectives import centred_window, gene_objective
from engine.io.annotation import Gene
from engine.io.encoding import one_hot, reverse_complement
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter

KNOWN_TATA_GENES = ("TDH3", "HIS3", "ADH1", "PGK1")
TATA = re.compile(r"(?=TATA[AT]A[AT][AG])")
TATA_BP = 8


def upstream_region(gene: Gene, length: int = FOCUSED_ISM_BP) -> Interval:
    """The ``length`` bp just before the gene's annotated start, on its strand."""
    if gene.strand == "-":
        return Interval(gene.chrom, gene.tss + 1, gene.tss + 1 + length)
    return Interval(gene.chrom, gene.tss - length, gene.tss)


def tata_boxes(region: Interval, sequence: str, strand: str) -> list[Interval]:
    """Every TATAWAWR of ``sequence`` (the genome's + strand over ``region``) read on
    ``strand``, as genome intervals."""
    read = reverse_complement(sequence) if strand == "-" else sequence
    boxes = []
    for match in TATA.finditer(read.upper()):
        first = match.start()
        start = region.end - first - TATA_BP if strand == "-" else region.start + first
        boxes.append(Interval(region.chrom, start, start + TATA_BP))
    return sorted(boxes, key=lambda box: box.start)


def importance_ranks(importance: np.ndarray) -> np.ndarray:
    """1 for the most important position, ``len(importance)`` for the least."""
    ranks = np.empty(len(importance), dtype=np.int64)
    ranks[np.argsort(-importance, kind="stable")] = np.arange(1, len(importance) + 1)
    return ranks


def tata_rank(model: ModelAdapter, genome: Genome, gene: Gene) -> dict:
    """ISM of ``gene``'s upstream region for its gene objective; the best rank reached by a
    base of each TATA box there (None when the region has none)."""
    region = upstream_region(gene)
    window = centred_window(model, region)
    sequence = genome.fetch(window)
    first = region.start - window.start
    objective = gene_objective(model, window, gene)
    result = ism(model, one_hot(sequence), objective, first, first + len(region))
    stretch = sequence[first : first + len(region)]
    ranks = importance_ranks(-mean_substitution_effect(result.effects, stretch))
    boxes = {
        box.readable(): int(ranks[box.start - region.start :][:TATA_BP].min())
        for box in tata_boxes(region, stretch, gene.strand)
    }
    return {
        "gene": gene.name or gene.gene_id,
        "region": region.readable(),
        "positions": len(region),
        "tata_boxes": boxes,  # box -> the best rank of its bases
        "best_rank": min(boxes.values(), default=None),
    }


def known_tata_ranks(
    model: ModelAdapter, genome: Genome, genes: Sequence[Gene], names=KNOWN_TATA_GENES
) -> list[dict]:
    by_name = {gene.name: gene for gene in genes if gene.name}
    return [tata_rank(model, genome, by_name[name]) for name in names if name in by_name]


def main(argv: list[str] | None = None) -> None:
    from engine.io.annotation import read_genes
    from engine.models import runtime
    from engine.models.ensemble import Ensemble
    from engine.models.yeast import YeastAdapter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, nargs="+", required=True, help="replicate folders")
    parser.add_argument("--data", type=Path, default=Path("data/yeast"))
    args = parser.parse_args(argv)
    runtime.use_full_precision()
    genome = Genome(args.data / "sacCer3.fa.gz")
    genes = read_genes(args.data / "genes_R64.gff3")
    replicates = [YeastAdapter(path, device=runtime.device()) for path in args.model]
    model = Ensemble(replicates, reverse_complement=True)
    ranks = known_tata_ranks(model, genome, genes)
    print(json.dumps({"models": [str(p) for p in args.model], "genes": ranks}, indent=2))


if __name__ == "__main__":
    main()
