"""How much predicted variant effects move when nothing biological moved.

Three measures, each a Pearson correlation and a sign agreement of one scorer (logSED by
default, every allele × track) between two ways of scoring the same SNVs, over all of them and
over the strongest tenth (by |score| under the first way):

- shift: windows centred on each variant, against the same windows moved by ``shift`` bp (the
  model's bin and pooling phase change, the biology does not); an ensemble's own input shifts
  (``--shifts``, averaged) all move by ``shift``;
- placement: windows centred on each variant, against the engine's shared tiles;
- replicates: the mean over pairs of replicates of their correlation on centred windows.

    python -m engine.variants.stability --model data/models/yeast-demo --chroms XI XIII XV

prints JSON; the SNVs are drawn at random in the promoters (−300…+50 bp of the annotated start)
of genes on ``--chroms`` (validation chromosomes for model selection, test ones for the card).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.io.annotation import Gene
from engine.io.fasta import Genome
from engine.io.files import configured_shifts, merge_json
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.models.base import ModelAdapter
from engine.models.ensemble import Ensemble
from engine.variants.effects import VariantScores, score_variants

CENTRED = 1  # window step of 1 bp: every variant gets its own window, centred on it
TOP_FRACTION = 0.1


def promoter_snvs(
    genome: Genome,
    genes: Sequence[Gene],
    chroms: Sequence[str],
    count: int,
    *,
    seed: int = 0,
    upstream: int = 300,
    downstream: int = 50,
) -> list[Variant]:
    """``count`` random SNVs, each within ``upstream`` bp before to ``downstream`` bp after the
    annotated start of a random gene on ``chroms`` (strand-aware), sorted by position."""
    rng = random.Random(seed)
    pool = [g for g in genes if g.chrom in chroms and g.chrom in genome.contig_lengths]
    variants: list[Variant] = []
    while len(variants) < count:
        gene = rng.choice(pool)
        offset = rng.randrange(-upstream, downstream + 1)
        start = gene.tss + (offset if gene.strand == "+" else -offset)
        if not 0 <= start < genome.contig_lengths[gene.chrom]:
            continue
        ref = genome.fetch(Interval(gene.chrom, start, start + 1))
        if ref in "ACGT":
            alt = rng.choice([base for base in "ACGT" if base != ref])
            variants.append(Variant(gene.chrom, start, ref, alt, f"snv{len(variants)}", 0))
    return sorted(variants, key=lambda v: (v.chrom, v.start))


def agreement(first: np.ndarray, second: np.ndarray) -> dict:
    """Pearson and sign agreement of two score arrays of the same shape, over all entries and
    over the ``TOP_FRACTION`` largest |first|."""
    a, b = np.ravel(first), np.ravel(second)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    top = np.argsort(-np.abs(a))[: max(2, int(len(a) * TOP_FRACTION))]
    return {
        "pearson": _pearson(a, b),
        "sign_agreement": _signs(a, b),
        "pearson_top10": _pearson(a[top], b[top]),
        "sign_agreement_top10": _signs(a[top], b[top]),
    }


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.corrcoef(a, b)[0, 1]), 4)


def _signs(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.mean(np.sign(a) == np.sign(b))), 4)


def _scores(
    model: ModelAdapter,
    genome: Genome,
    variants,
    scorer: str,
    window_step: int | None,
    genes: Sequence[Gene] = (),
) -> tuple[np.ndarray, dict]:
    """``(V, T)`` scores of ``scorer``, and gene-level logSED by (variant, gene, track)."""
    scored: VariantScores = score_variants(
        model,
        genome,
        variants,
        scorers=[scorer],
        genes=list(genes),
        window_step=window_step,
        batch_size=16,
    )
    found = scored.gene_scores
    by_key = {
        key: float(value)
        for key, value in zip(
            zip(found.variant, found.gene, found.track, strict=True), found.log_sed, strict=True
        )
    }
    return scored.scores[..., 0], by_key


def gene_agreement(first: dict, second: dict) -> dict | None:
    """``agreement`` of two gene-level score sets over the keys both have (None: too few)."""
    keys = sorted(first.keys() & second.keys())
    if len(keys) < 3:
        return None
    return {"entries": len(keys)} | agreement(
        np.array([first[k] for k in keys]), np.array([second[k] for k in keys])
    )


def _with_shift(model: Ensemble, bp: int) -> Ensemble:
    """``model`` with each of its input shifts moved by ``bp``."""
    shifts = tuple(shift + bp for shift in model.shifts)
    return Ensemble(model.replicates, reverse_complement=model.use_rc, shifts=shifts)


def stability(
    model: Ensemble,
    genome: Genome,
    variants: Sequence[Variant],
    *,
    shift: int = 7,
    scorer: str = "logSED",
    genes: Sequence[Gene] = (),
) -> dict:
    """The shift and placement measures of ``model`` (and replicate agreement when it has more
    than one replicate) on ``variants``: of ``scorer`` on every allele × track, and, given
    ``genes``, of gene-level logSED (what a gene's expression change is read from)."""
    centred, centred_genes = _scores(
        _with_shift(model, 0), genome, variants, scorer, CENTRED, genes
    )
    moved, moved_genes = _scores(
        _with_shift(model, shift), genome, variants, scorer, CENTRED, genes
    )
    tiled, tiled_genes = _scores(_with_shift(model, 0), genome, variants, scorer, None, genes)
    result = {
        "variants": len(variants),
        "scorer": scorer,
        f"shift_0_vs_{shift}": agreement(centred, moved),
        "centred_vs_shared_windows": agreement(centred, tiled),
    }
    if genes:
        result["gene_logSED"] = {
            f"shift_0_vs_{shift}": gene_agreement(centred_genes, moved_genes),
            "centred_vs_shared_windows": gene_agreement(centred_genes, tiled_genes),
        }
    if len(model.replicates) > 1:
        result["replicate_pearson"] = replicate_agreement(model, genome, variants, scorer)
    return result


def replicate_agreement(
    model: Ensemble, genome: Genome, variants: Sequence[Variant], scorer: str = "logSED"
) -> float:
    """Mean over pairs of replicates of the Pearson of their scores (centred windows)."""
    each = [
        _scores(
            Ensemble([one], reverse_complement=model.use_rc), genome, variants, scorer, CENTRED
        )[0]
        for one in model.replicates
    ]
    pairs = [_pearson(*(np.ravel(s) for s in pair)) for pair in itertools.combinations(each, 2)]
    return round(float(np.mean(pairs)), 4)


def main(argv: list[str] | None = None) -> None:
    from engine.io.annotation import read_genes
    from engine.models import runtime
    from engine.models.yeast import YeastAdapter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, nargs="+", required=True, help="replicate folders")
    parser.add_argument("--data", type=Path, default=Path("data/yeast"))
    parser.add_argument("--chroms", nargs="+", default=["XI", "XIII", "XV"])
    parser.add_argument("--variants", type=int, default=300)
    parser.add_argument("--shift", type=int, default=7)
    parser.add_argument(
        "--shifts",
        type=int,
        nargs="+",
        help="the ensemble's input shifts (bp); default: the first model's config.json "
        "default_shifts, the scoring default",
    )
    parser.add_argument(
        "--card",
        action="store_true",
        help="store the result as scoring_stability in the first model's metrics.json (the "
        "model card's figures for its default scoring)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-rc", action="store_true", help="no reverse-complement passes")
    args = parser.parse_args(argv)
    runtime.use_full_precision()  # bf16 rounding would read as instability
    genome = Genome(args.data / "sacCer3.fa.gz")
    genes = read_genes(args.data / "genes_R64.gff3")
    variants = promoter_snvs(genome, genes, args.chroms, args.variants, seed=args.seed)
    replicates = [YeastAdapter(path, device=runtime.device()) for path in args.model]
    shifts = args.shifts or configured_shifts(args.model[0])
    model = Ensemble(replicates, reverse_complement=not args.no_rc, shifts=shifts)
    result = {"models": [str(path) for path in args.model], "chroms": args.chroms}
    result |= {"shifts": list(shifts), "reverse_complement": not args.no_rc}
    result |= stability(model, genome, variants, shift=args.shift, genes=genes)
    if args.card:
        merge_json(args.model[0] / "metrics.json", {"scoring_stability": result})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
