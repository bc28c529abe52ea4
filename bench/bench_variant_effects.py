"""Variant effect scoring speed: the engine (shared reference windows, batched alleles) against
the naive per-variant version, on the same SNVs; prints JSON.

    .venv/bin/python bench/bench_variant_effects.py [--variants 300] [--per-cluster 10]

SNVs are drawn in clusters around yeast gene starts (variant sets cluster: a promoter screen,
a QTL interval), with a fixed seed, and scored with the demo model (data/models/yeast-demo) on
the real yeast genome, reverse complement on. The naive version centres a window on each
variant and predicts its reference and alternative together, one variant at a time; the engine
tiles the genome (``default_window_step``), predicts each tile's reference once and batches the
alternatives through the model's fast path for substitutions, which recomputes the
convolutional tower only around the changed base. Their scores differ only by window placement,
reported as a correlation.
"""

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.io.annotation import read_genes  # noqa: E402
from engine.io.fasta import Genome  # noqa: E402
from engine.io.intervals import Interval  # noqa: E402
from engine.io.vcf import Variant  # noqa: E402
from engine.models.ensemble import Ensemble  # noqa: E402
from engine.models.yeast import YeastAdapter  # noqa: E402
from engine.variants.effects import (  # noqa: E402
    default_window_step,
    naive_score_variants,
    plan_windows,
    score_variants,
)

SCORERS = ["SUM", "logSED", "logD2", "JS"]


def clustered_snvs(genome: Genome, data: Path, count: int, per_cluster: int, seed: int):
    """``count`` SNVs, ``per_cluster`` within ±300 bp of each of randomly chosen gene starts."""
    rng = random.Random(seed)
    genes = [g for g in read_genes(data / "genes_R64.gff3") if g.chrom in genome.contig_lengths]
    variants: list[Variant] = []
    while len(variants) < count:
        gene = rng.choice(genes)
        for _ in range(min(per_cluster, count - len(variants))):
            start = min(max(gene.tss + rng.randrange(-300, 301), 0), gene.end)
            ref = genome.fetch(Interval(gene.chrom, start, start + 1))
            if ref in "ACGT":
                alt = rng.choice([base for base in "ACGT" if base != ref])
                variants.append(Variant(gene.chrom, start, ref, alt, f"snv{len(variants)}", 0))
    return variants


def timed(repeats: int, function, *args, **kwargs):
    """The result and the fastest of ``repeats`` wall times (the least disturbed run)."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - began)
    return result, min(times)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "data/models/yeast-demo")
    parser.add_argument("--data", type=Path, default=ROOT / "data/yeast")
    parser.add_argument("--variants", type=int, default=300)
    parser.add_argument("--per-cluster", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=torch.get_num_threads(),
        help="torch intra-op threads; on a shared machine fewer threads than cores avoids "
        "oversubscription, which slows small batches (the naive version's) far more",
    )
    return parser.parse_args()


def compare(args: argparse.Namespace, model: Ensemble, genome: Genome, variants: list) -> dict:
    """Wall times of both versions on ``variants``, and how far their logSEDs agree."""
    score_variants(model, genome, variants[:2], scorers=SCORERS)  # warm-up
    engine, engine_s = timed(
        args.repeats,
        score_variants,
        model,
        genome,
        variants,
        scorers=SCORERS,
        batch_size=args.batch_size,
    )
    naive, naive_s = timed(
        args.repeats, naive_score_variants, model, genome, variants, scorers=SCORERS
    )
    return {
        "engine_seconds": round(engine_s, 2),
        "naive_seconds": round(naive_s, 2),
        "engine_variants_per_s": round(len(variants) / engine_s, 2),
        "naive_variants_per_s": round(len(variants) / naive_s, 2),
        "speedup": round(naive_s / engine_s, 2),
        "logSED_correlation_tiled_vs_centred_windows": log_sed_correlation(engine, naive),
    }


def log_sed_correlation(first, second) -> float:
    column = SCORERS.index("logSED")
    pair = first.scores[..., column].ravel(), second.scores[..., column].ravel()
    return round(float(np.corrcoef(*pair)[0, 1]), 4)


def phase_check(model: Ensemble, genome: Genome, variants: list) -> dict:
    """Tiled against centred windows again, each averaged over shifts of 0 and 1 bp.

    Tiled windows start on even positions, centred ones on the variant's parity; the demo
    model's first max-pool pairs bases (2i, 2i + 1), so a 1 bp shift changes its input phase.
    If averaging both phases brings the two placements together, their disagreement is the
    model's phase sensitivity, not the tiling.
    """
    both = Ensemble(model.replicates, reverse_complement=True, shifts=(0, 1))
    tiled = score_variants(both, genome, variants, scorers=SCORERS)
    centred = score_variants(both, genome, variants, scorers=SCORERS, window_step=1)
    return {"logSED_correlation_tiled_vs_centred_shifts_0_1": log_sed_correlation(tiled, centred)}


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    genome = Genome(args.data / "sacCer3.fa.gz")
    variants = clustered_snvs(genome, args.data, args.variants, args.per_cluster, args.seed)
    model = Ensemble([YeastAdapter(args.model)], reverse_complement=True)
    step = default_window_step(model)
    windows = plan_windows(variants, model.sequence_length, step, range(len(variants)))
    result = {
        "machine": platform.processor() or platform.machine(),
        "device": str(model.device),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "model": args.model.name,
        "window_bp": model.sequence_length,
        "reverse_complement": True,
        "variants": len(variants),
        "clusters": -(-len(variants) // args.per_cluster),
        "window_step_bp": step,
        "engine_windows": len(windows),
        # × 2: reverse complement
        "engine_whole_window_sequences": 2 * len(windows),
        "engine_fast_path_substitutions": 2 * len(variants),
        "naive_forward_sequences": 2 * 2 * len(variants),
        "batch_size": args.batch_size,
        "repeats_fastest_of": args.repeats,
    }
    result |= compare(args, model, genome, variants)
    result |= phase_check(model, genome, variants)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
