"""Does a model's ISM point at real promoter motifs? A proxy of variant-level quality that needs
no measured variants.

For promoters (−300…+50 bp around the annotated start, on the gene's strand) of genes on given
chromosomes, ISM (the model's fast path where it has one) of the gene objective marks important
stretches (``motifs.important_segments`` with ISM's noise rule); the figure is the fraction of
those stretches that hold a site of a known yeast promoter factor (``PROMOTER_FACTORS``: TBP,
Reb1, Abf1, Rap1, Mcm1, ...), called at p < 1e-4 against the genome's own sequence
(``SiteCaller``). References: the same stretch lengths at random places in the same promoters
(chance), the same ISM on each promoter dinucleotide-shuffled in place (same window, same
composition and dinucleotide counts, motifs destroyed; their ratio is the enrichment) and the
places a distance-only profile marks.

    python -m engine.interpret.motif_recovery --model data/models/yeast-demo --genes 300
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.interpret.ism import ism
from engine.interpret.ism_rules import ISM_NOISE_MADS, mean_substitution_effect
from engine.interpret.motifs import PositionWeightMatrix, important_segments, site_scores
from engine.interpret.objectives import centred_window, gene_objective
from engine.interpret.tata import TATA_BP
from engine.io.annotation import Gene
from engine.io.encoding import one_hot
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter

logger = logging.getLogger(__name__)
UPSTREAM, DOWNSTREAM = 300, 50


def promoter(gene: Gene, upstream: int = UPSTREAM, downstream: int = DOWNSTREAM) -> Interval:
    """``upstream`` bp before to ``downstream`` bp after the annotated start, on its strand."""
    return gene.start_window(upstream, downstream)


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


#: Factors of yeast promoters with well-known sites (TATA box: SPT15 = TBP; the general
#: regulatory factors Reb1, Abf1, Rap1, Cbf1; Mcm1; the PAC/RRPE binders Tod6, Dot6; Sfp1,
#: Rsc3; the stress factors Msn2/4; Gcn4): the JASPAR matrices a recovered stretch may match.
PROMOTER_FACTORS = (
    "SPT15",
    "REB1",
    "ABF1",
    "RAP1",
    "CBF1",
    "MCM1",
    "TOD6",
    "DOT6",
    "SFP1",
    "RSC3",
    "MSN2",
    "MSN4",
    "GCN4",
)
#: A site is called where a matrix scores above what a random genomic position reaches with
#: this probability (per position and strand): FIMO's default p-value.
SITE_P = 1e-4
BACKGROUND_BP = 1_000_000
TATA_CONSENSUS = "TATAWAWR"
# TATAWAWR on the + strand, or its reverse complement YWTWTATA, read on the + strand
TATA_EITHER_STRAND = re.compile(r"(?=(TATA[AT]A[AT][AG]|[CT][AT]T[AT]TATA))", re.IGNORECASE)


def promoter_matrices(matrices: Sequence[PositionWeightMatrix]) -> list[PositionWeightMatrix]:
    return [m for m in matrices if m.name.upper() in PROMOTER_FACTORS]


@dataclass(frozen=True, eq=False)
class SiteCaller:
    """Calls the sites of a few matrices at a fixed false-positive rate per position.

    A relative-score cut-off (0.85, as for labels) lets 193 fungal matrices match almost any
    10 bp of yeast DNA, so a recovered stretch would always look explained. Here each matrix's
    cut-off is the score that random positions of the genome itself reach with probability
    ``SITE_P`` (an empirical p-value against the genome's composition: yeast is 62 % A+T,
    which a uniform background would let TATA-like matrices overcall).
    """

    matrices: list[PositionWeightMatrix]
    thresholds: np.ndarray  # (M,) bits
    too_short: list[str]  # matrices no score of which random DNA exceeds less often than p

    @classmethod
    def calibrated(
        cls, matrices: Sequence[PositionWeightMatrix], background: str, p: float = SITE_P
    ) -> SiteCaller:
        scores = site_scores(background, matrices)  # (L, 2M)
        count = len(matrices)
        both = np.concatenate([scores[:, :count], scores[:, count:]])  # (2L, M)
        thresholds = np.array([np.quantile(c[np.isfinite(c)], 1 - p) for c in both.T])
        callable_ = [t < m.max_score - 1e-3 for m, t in zip(matrices, thresholds, strict=True)]
        kept = [m for m, ok in zip(matrices, callable_, strict=True) if ok]
        too_short = [m.name for m, ok in zip(matrices, callable_, strict=True) if not ok]
        return cls(kept, thresholds[np.array(callable_, dtype=bool)], too_short)

    def site_spans(self, sequence: str) -> list[tuple[int, int]]:
        """``(start, end)`` of every called site, either strand, in ``sequence``'s frame: the
        matrices' sites and every TATA box (``TATA_CONSENSUS``, the textbook TATAWAWR, about
        1.7e-4 per position and strand in yeast DNA)."""
        spans = [(m.start(), m.start() + TATA_BP) for m in TATA_EITHER_STRAND.finditer(sequence)]
        if self.matrices:
            scores = site_scores(sequence, self.matrices)
            widths = np.array([m.width for m in self.matrices] * 2)
            # strictly above: scores take few values, and the quantile's own value can hold
            # far more than p of the positions
            hits = scores > np.concatenate([self.thresholds, self.thresholds])[None, :]
            spans += [(int(r), int(r + widths[c])) for r, c in zip(*np.nonzero(hits), strict=True)]
        return sorted(set(spans))


def genome_background(genome: Genome, bp: int = BACKGROUND_BP, seed: int = 0) -> str:
    """``bp`` of the genome in 10 kb pieces at random places (N-free pieces only)."""
    rng = random.Random(seed)
    contigs = [(c, n) for c, n in genome.contig_lengths.items() if n > 20_000]
    if not contigs:
        raise ValueError("no contig of this genome is long enough (20 kb) to sample a background")
    weights = [n for _, n in contigs]
    pieces: list[str] = []
    for _ in range(100 * (bp // 10_000 + 1)):  # gives up on a genome that is mostly N
        if sum(map(len, pieces)) >= bp:
            break
        chrom, length = rng.choices(contigs, weights)[0]
        start = rng.randrange(0, length - 10_000)
        piece = genome.fetch(Interval(chrom, start, start + 10_000)).upper()
        if "N" not in piece:
            pieces.append(piece)
    if not pieces:
        raise ValueError("the genome has no N-free 10 kb stretch to sample a background from")
    return "N".join(pieces)  # an N between pieces: no site spans two of them


@dataclass(frozen=True)
class Recovery:
    segments: int  # important stretches found
    matched: int  # of them, those a called site falls in (half its width at least)
    chance: float  # expected matched for stretches of the same lengths placed at random

    @property
    def fraction(self) -> float:
        return self.matched / self.segments if self.segments else float("nan")

    @property
    def chance_fraction(self) -> float:
        return self.chance / self.segments if self.segments else float("nan")

    def __add__(self, other: Recovery) -> Recovery:
        return Recovery(
            self.segments + other.segments, self.matched + other.matched, self.chance + other.chance
        )


NO_RECOVERY = Recovery(0, 0, 0.0)


def recovered(
    segments: Sequence[tuple[int, int]], sites: Sequence[tuple[int, int]], length: int
) -> Recovery:
    """How many ``segments`` of a ``length``-bp stretch hold a site, and how many would by
    chance: the same lengths at every possible place in the stretch, averaged."""
    matched = sum(_holds_a_site(start, end, sites) for start, end in segments)
    chance = 0.0
    for start, end in segments:
        width = end - start
        places = [_holds_a_site(p, p + width, sites) for p in range(length - width + 1)]
        chance += float(np.mean(places)) if places else 0.0
    return Recovery(len(segments), matched, chance)


def _holds_a_site(start: int, end: int, sites: Sequence[tuple[int, int]]) -> bool:
    return any(2 * _overlap(s, e, start, end) >= e - s for s, e in sites)


def _overlap(site_start: int, site_end: int, start: int, end: int) -> int:
    return max(0, min(site_end, end) - max(site_start, start))


def promoter_importance(
    model: ModelAdapter, genome: Genome, gene: Gene, shuffle: random.Random | None = None
) -> tuple[str, np.ndarray]:
    """The promoter's sequence (shuffled in place when ``shuffle`` is given) and its ISM
    importance for the gene objective, ``(L,)``, both in the genome's + strand frame."""
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


def important(importance: np.ndarray) -> list[tuple[int, int]]:
    return important_segments(importance, noise_mads=ISM_NOISE_MADS)


def motif_recovery(
    model: ModelAdapter,
    genome: Genome,
    genes: Sequence[Gene],
    caller: SiteCaller,
    *,
    seed: int = 0,
) -> dict:
    """The recovery figures over ``genes``' promoters, against three references: stretches of
    the same lengths at random places in the same promoters (chance), the same ISM on each
    promoter dinucleotide-shuffled (the issue's control: motifs destroyed), and a distance-only
    baseline (the stretches the promoters' mean importance profile marks, the same places in
    every promoter: what knowing where promoters are, not their sequence, would recover)."""
    rng = random.Random(seed)
    real, shuffled, per_gene, profiles = NO_RECOVERY, NO_RECOVERY, [], []
    for gene in genes:
        stretch, importance = promoter_importance(model, genome, gene)
        sites = caller.site_spans(stretch)
        one = recovered(important(importance), sites, len(stretch))
        real, profiles = real + one, [*profiles, _gene_oriented(np.abs(importance), gene)]
        control, control_importance = promoter_importance(model, genome, gene, shuffle=rng)
        shuffled += recovered(
            important(control_importance), caller.site_spans(control), len(control)
        )
        per_gene.append({"gene": gene.gene_id, "segments": one.segments, "matched": one.matched})
        logger.info("motif recovery %d/%d %s: %s", len(per_gene), len(genes), gene.gene_id, one)
    distance_only = _distance_only(genome, genes, caller, profiles)
    return {
        "genes": len(genes),
        "factors": [TATA_CONSENSUS] + sorted({m.name for m in caller.matrices}),
        "factors_too_short_to_call": caller.too_short,
        "site_p": SITE_P,
        "segments": real.segments,
        "fraction_matched": _round(real.fraction),
        "chance_fraction": _round(real.chance_fraction),
        "enrichment_over_chance": _ratio(real.fraction, real.chance_fraction),
        "shuffled_segments": shuffled.segments,
        "shuffled_fraction_matched": _round(shuffled.fraction),
        "enrichment": _ratio(real.fraction, shuffled.fraction),
        "distance_only_segments": distance_only.segments,  # per promoter × promoters
        "distance_only_fraction_matched": _round(distance_only.fraction),
        "per_gene": per_gene,
    }


def _gene_oriented(values: np.ndarray, gene: Gene) -> np.ndarray:
    return values[::-1] if gene.strand == "-" else values


def _distance_only(
    genome: Genome, genes: Sequence[Gene], caller: SiteCaller, profiles: list[np.ndarray]
) -> Recovery:
    if not profiles:
        return NO_RECOVERY
    segments = important(np.mean(profiles, axis=0))  # in gene orientation
    total = NO_RECOVERY
    for gene in genes:
        stretch = genome.fetch(promoter(gene))
        length = len(stretch)
        placed = [(length - e, length - s) if gene.strand == "-" else (s, e) for s, e in segments]
        total += recovered(placed, caller.site_spans(stretch), length)
    return total


def _round(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def _ratio(a: float, b: float) -> float | None:
    return None if np.isnan(a) or np.isnan(b) or b == 0 else round(float(a / b), 3)


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
    matrices = promoter_matrices(load_matrices(tax_group_for_species("Saccharomyces cerevisiae")))
    caller = SiteCaller.calibrated(matrices, genome_background(genome, seed=args.seed))
    result = motif_recovery(model, genome, genes, caller, seed=args.seed)
    print(json.dumps({"models": [str(p) for p in args.model], "chroms": args.chroms} | result))


if __name__ == "__main__":
    main()
