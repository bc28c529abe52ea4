"""Does a model's ISM point at real promoter motifs? A proxy of variant-level quality that needs
no measured variants.

For promoters (−300…+50 bp around the annotated start, on the gene's strand) of genes on given
chromosomes, ISM (the model's fast path where it has one) of the gene objective marks important
stretches (``motifs.important_segments`` with ISM's noise rule); the figure is the fraction of
those stretches that a JASPAR matrix of the taxon matches (``motifs.label_segments``). The same
on each promoter dinucleotide-shuffled in place (same window, same composition and
dinucleotide counts, motifs destroyed) is the control; their ratio is the enrichment.

    python -m engine.interpret.motif_recovery --model data/models/yeast-demo --genes 300
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.interpret.ism import ism
from engine.interpret.ism_rules import ISM_NOISE_MADS, mean_substitution_effect
from engine.interpret.motifs import PositionWeightMatrix, important_segments, label_segments
from engine.interpret.objectives import centred_window, gene_objective
from engine.io.annotation import Gene
from engine.io.encoding import one_hot
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter

UPSTREAM, DOWNSTREAM = 300, 50


def promoter(gene: Gene, upstream: int = UPSTREAM, downstream: int = DOWNSTREAM) -> Interval:
    """``upstream`` bp before to ``downstream`` bp after the annotated start, on its strand."""
    if gene.strand == "-":
        return Interval(gene.chrom, gene.tss + 1 - downstream, gene.tss + 1 + upstream)
    return Interval(gene.chrom, gene.tss - upstream, gene.tss + downstream)


def dinucleotide_shuffle(sequence: str, rng: random.Random) -> str:
    """A random sequence with the same first letter and the same count of every dinucleotide
    (Altschul & Erickson 1985: a random Eulerian path through the dinucleotide graph)."""
    if len(sequence) < 3:
        return sequence
    following: dict[str, list[str]] = {}
    for a, b in zip(sequence, sequence[1:], strict=False):
        following.setdefault(a, []).append(b)
    last = sequence[-1]
    exits = _last_exits(following, last, rng)
    order = {}
    for letter, targets in following.items():
        rest = list(targets)
        if letter in exits:
            rest.remove(exits[letter])
        rng.shuffle(rest)
        order[letter] = rest + ([exits[letter]] if letter in exits else [])
    out, used = [sequence[0]], dict.fromkeys(order, 0)
    for _ in range(len(sequence) - 1):
        letter = out[-1]
        out.append(order[letter][used[letter]])
        used[letter] += 1
    return "".join(out)


def _last_exits(following: dict[str, list[str]], last: str, rng: random.Random) -> dict:
    """For every letter but the final one, the edge it leaves by last, drawn until those edges
    form a tree into ``last`` (so the walk can always finish)."""
    while True:
        exits = {a: rng.choice(b) for a, b in following.items() if a != last}
        if all(_reaches(a, last, exits) for a in exits):
            return exits


def _reaches(letter: str, last: str, exits: dict[str, str]) -> bool:
    seen = set()
    while letter != last:
        if letter in seen or letter not in exits:
            return False
        seen.add(letter)
        letter = exits[letter]
    return True


@dataclass(frozen=True)
class Recovery:
    segments: int  # important stretches found
    matched: int  # of them, those a JASPAR matrix matches

    @property
    def fraction(self) -> float:
        return self.matched / self.segments if self.segments else float("nan")


def recovered(
    stretch: str, importance: np.ndarray, matrices: Sequence[PositionWeightMatrix]
) -> Recovery:
    """How many important stretches of ``stretch`` one of ``matrices`` matches."""
    segments = important_segments(importance, noise_mads=ISM_NOISE_MADS)
    labels = label_segments(stretch, importance, matrices, noise_mads=ISM_NOISE_MADS)
    matched = {
        next(i for i, (s, e) in enumerate(segments) if 2 * _overlap(m, s, e) >= m.end - m.start)
        for m in labels
    }
    return Recovery(len(segments), len(matched))


def _overlap(match, start: int, end: int) -> int:
    return max(0, min(match.end, end) - max(match.start, start))


def promoter_importance(
    model: ModelAdapter, genome: Genome, gene: Gene, shuffle: random.Random | None = None
) -> tuple[str, np.ndarray]:
    """The promoter's sequence (shuffled in place when ``shuffle`` is given) and its ISM
    importance for the gene objective, ``(L,)``."""
    region = promoter(gene)
    window = centred_window(model, region)
    sequence = genome.fetch(window)
    first = region.start - window.start
    stretch = sequence[first : first + len(region)]
    if shuffle is not None:
        stretch = dinucleotide_shuffle(stretch, shuffle)
        sequence = sequence[:first] + stretch + sequence[first + len(region) :]
    objective = gene_objective(model, window, gene)
    result = ism(model, one_hot(sequence), objective, first, first + len(region))
    return stretch, -mean_substitution_effect(result.effects, stretch)


def motif_recovery(
    model: ModelAdapter,
    genome: Genome,
    genes: Sequence[Gene],
    matrices: Sequence[PositionWeightMatrix],
    *,
    seed: int = 0,
) -> dict:
    """The recovery figures over ``genes``' promoters and their shuffled controls."""
    rng = random.Random(seed)
    real, shuffled = Recovery(0, 0), Recovery(0, 0)
    for gene in genes:
        real = _add(real, recovered(*promoter_importance(model, genome, gene), matrices))
        control = promoter_importance(model, genome, gene, shuffle=rng)
        shuffled = _add(shuffled, recovered(*control, matrices))
    return {
        "genes": len(genes),
        "segments": real.segments,
        "fraction_matched": round(real.fraction, 4),
        "shuffled_segments": shuffled.segments,
        "shuffled_fraction_matched": round(shuffled.fraction, 4),
        "enrichment": round(real.fraction / shuffled.fraction, 3) if shuffled.matched else None,
    }


def _add(total: Recovery, one: Recovery) -> Recovery:
    return Recovery(total.segments + one.segments, total.matched + one.matched)


def sample_genes(
    genes: Sequence[Gene], genome: Genome, chroms: Sequence[str], count: int, seed: int = 0
) -> list[Gene]:
    """``count`` protein-coding-like genes (with exons) on ``chroms``, at random, by position."""
    pool = [g for g in genes if g.chrom in chroms and g.exons and g.chrom in genome.contig_lengths]
    chosen = random.Random(seed).sample(pool, min(count, len(pool)))
    return sorted(chosen, key=lambda g: (g.chrom, g.start))


def main(argv: list[str] | None = None) -> None:
    from engine.interpret.motifs import load_matrices, tax_group_for_species
    from engine.io.annotation import read_genes
    from engine.models import runtime
    from engine.models.ensemble import Ensemble
    from engine.models.yeast import YeastAdapter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, nargs="+", required=True, help="replicate folders")
    parser.add_argument("--data", type=Path, default=Path("data/yeast"))
    parser.add_argument("--chroms", nargs="+", default=["XII", "XIV", "XVI"])
    parser.add_argument("--genes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    runtime.use_full_precision()
    genome = Genome(args.data / "sacCer3.fa.gz")
    genes = sample_genes(read_genes(args.data / "genes_R64.gff3"), genome, args.chroms, args.genes)
    model = Ensemble([YeastAdapter(p, device=runtime.device()) for p in args.model])
    matrices = load_matrices(tax_group_for_species("Saccharomyces cerevisiae"))
    result = motif_recovery(model, genome, genes, matrices, seed=args.seed)
    print(json.dumps({"models": [str(p) for p in args.model], "chroms": args.chroms} | result))


if __name__ == "__main__":
    main()
