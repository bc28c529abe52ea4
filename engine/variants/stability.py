"""How much predicted variant effects move when nothing biological moved.

Three measures, each a Pearson correlation and a sign agreement of one scorer (logSED by
default, every allele × track) between two ways of scoring the same SNVs, over all of them and
over the strongest tenth (by |score| under the first way):

- shift: windows centred on each variant, against the same windows moved by ``shift`` bp (the
  model's bin and pooling phase change, the biology does not); an ensemble's own input shifts
  (``--shifts``, averaged) all move by ``shift``;
- placement: windows centred on each variant, against the engine's shared tiles;
- replicates: the mean over pairs of replicates of their correlation on centred windows;
- far bins (``--far-bins``): how much bins far from a deletion move, against an SNV's. A
  deletion's alternative is stitched from a left- and a right-anchored prediction, so bins far
  from it compare the same genome; whatever they still move is context and model noise that
  D1, D2 and SUM sum over the whole window.

    python -m engine.variants.stability --model data/models/yeast-demo --chroms XI XIII XV

prints JSON; the SNVs are drawn at random in the promoters (−300…+50 bp of the annotated start)
of genes on ``--chroms`` (validation chromosomes for model selection, test ones for the card).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from engine.io.alleles import normalize
from engine.io.annotation import Gene
from engine.io.fasta import Genome
from engine.io.files import configured_shifts, merge_json
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.models.base import ModelAdapter
from engine.models.ensemble import Ensemble
from engine.variants.effects import (
    VariantScores,
    allele_profiles,
    score_variants,
    window_start,
)

CENTRED = 1  # window step of 1 bp: every variant gets its own window, centred on it
TOP_FRACTION = 0.1
FAR_BINS = 40  # bins (1.3 kb for 32-bp bins) beyond which a variant's own effect has faded


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
    variants: list[Variant] = []
    for chrom, start in _promoter_positions(genome, genes, chroms, rng, upstream, downstream):
        if len(variants) == count:
            break
        if not 0 <= start < genome.contig_lengths[chrom]:
            continue
        ref = genome.fetch(Interval(chrom, start, start + 1))
        if ref in "ACGT":
            alt = rng.choice([base for base in "ACGT" if base != ref])
            variants.append(Variant(chrom, start, ref, alt, f"snv{len(variants)}", 0))
    return sorted(variants, key=lambda v: (v.chrom, v.start))


def promoter_deletions(
    genome: Genome,
    genes: Sequence[Gene],
    chroms: Sequence[str],
    count: int,
    *,
    seed: int = 0,
    size: int = 3,
) -> list[Variant]:
    """``count`` random ``size``-bp deletions in promoters (as ``promoter_snvs`` places SNVs),
    written as a VCF would (the base before, then the deleted bases), then left-aligned."""
    rng = random.Random(seed)
    variants: list[Variant] = []
    for chrom, start in _promoter_positions(genome, genes, chroms, rng, 300, 50):
        if len(variants) == count:
            break
        if not 1 <= start < genome.contig_lengths[chrom] - size - 1:
            continue
        ref = genome.fetch(Interval(chrom, start, start + 1 + size))
        if ref.strip("ACGT"):
            continue
        fetch = functools.partial(_fetch, genome, chrom)
        start, ref, alt = normalize(start, ref, ref[0], fetch)
        variants.append(Variant(chrom, start, ref, alt, f"del{len(variants)}", 0))
    return sorted(variants, key=lambda v: (v.chrom, v.start))


def _promoter_positions(
    genome: Genome,
    genes: Sequence[Gene],
    chroms: Sequence[str],
    rng: random.Random,
    upstream: int,
    downstream: int,
) -> Iterator[tuple[str, int]]:
    """Endless random positions from ``upstream`` bp before to ``downstream`` bp after the
    start of a random gene on ``chroms`` (strand-aware); the caller checks the contig's ends."""
    pool = [g for g in genes if g.chrom in chroms and g.chrom in genome.contig_lengths]
    while True:
        gene = rng.choice(pool)
        offset = rng.randrange(-upstream, downstream + 1)
        yield gene.chrom, gene.tss + (offset if gene.strand == "+" else -offset)


def _fetch(genome: Genome, chrom: str, start: int, end: int) -> str:
    return genome.fetch(Interval(chrom, start, end))


def far_bins(
    model: ModelAdapter, genome: Genome, variants: Sequence[Variant], *, near: int = FAR_BINS
) -> dict:
    """What bins more than ``near`` bins from each variant contribute, on windows centred on
    it, over every variant × track: the largest |A − R| there (counts, and as a fraction of
    R), and the share of D1 (Σ|A − R|), of D2² (Σ(A − R)²) and of |SUM| (|Σ(A − R)| from far
    bins against all of SUM's absolute parts) that comes from them (median and 95th
    percentile)."""
    largest, largest_rel, d1, d2, total = [], [], [], [], []
    # A track the variant does not move at all gives 0 / 0: nan, left out of the figures.
    with torch.inference_mode(), np.errstate(invalid="ignore", divide="ignore"):
        for variant in variants:
            start = window_start(variant.start, model.sequence_length, CENTRED)
            ref, alt = allele_profiles(model, genome, variant, None, start)
            ref, diff = ref[0].double().numpy(), (alt - ref)[0].double().numpy()  # (bins, T)
            at = (variant.start - start - model.crop_bp) // model.bin_size
            far = np.abs(np.arange(len(ref)) - at) > near  # (bins,)
            moved = np.abs(diff[far])
            largest.append(moved.max(axis=0))
            largest_rel.append((moved / np.maximum(ref[far], 1e-6)).max(axis=0))
            d1.append(moved.sum(axis=0) / np.abs(diff).sum(axis=0))
            d2.append(np.square(diff[far]).sum(axis=0) / np.square(diff).sum(axis=0))
            far_sum, near_sum = np.abs(diff[far].sum(axis=0)), np.abs(diff[~far].sum(axis=0))
            total.append(far_sum / (far_sum + near_sum))
    return {
        "variants": len(variants),
        "near_bins": near,
        "max_abs_change": _spread(largest),
        "max_relative_change": _spread(largest_rel),
        "D1_share": _spread(d1),
        "D2_squared_share": _spread(d2),
        "SUM_share": _spread(total),
    }


def _spread(values: list[np.ndarray]) -> dict:
    flat = np.concatenate(values)
    flat = flat[np.isfinite(flat)]
    figures = {"median": np.median(flat), "p95": np.percentile(flat, 95), "max": flat.max()}
    return {name: float(f"{value:.4g}") for name, value in figures.items()}


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
    parser.add_argument(
        "--far-bins",
        type=int,
        metavar="N",
        help="also measure the far bins of N 3-bp deletions against N of the SNVs (stored as "
        "deletion_far_bins with --card)",
    )
    args = parser.parse_args(argv)
    runtime.use_full_precision()  # bf16 rounding would read as instability
    runtime.keep_freed_memory()
    genome = Genome(args.data / "sacCer3.fa.gz")
    genes = read_genes(args.data / "genes_R64.gff3")
    variants = promoter_snvs(genome, genes, args.chroms, args.variants, seed=args.seed)
    replicates = [YeastAdapter(path, device=runtime.device()) for path in args.model]
    shifts = args.shifts or configured_shifts(args.model[0])
    model = Ensemble(replicates, reverse_complement=not args.no_rc, shifts=shifts)
    result = {"models": [str(path) for path in args.model], "chroms": args.chroms}
    result |= {"shifts": list(shifts), "reverse_complement": not args.no_rc}
    result |= stability(model, genome, variants, shift=args.shift, genes=genes)
    parts = {"scoring_stability": result}
    if args.far_bins:
        deletions = promoter_deletions(genome, genes, args.chroms, args.far_bins, seed=args.seed)
        parts["deletion_far_bins"] = {
            "chroms": args.chroms,
            "shifts": list(shifts),
            "deletions": far_bins(model, genome, deletions),
            "snvs": far_bins(model, genome, variants[: args.far_bins]),
        }
    if args.card:
        merge_json(args.model[0] / "metrics.json", parts)
    print(json.dumps(parts, indent=2))


if __name__ == "__main__":
    main()
