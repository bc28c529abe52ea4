"""Whether a model's substitution fast path pays: the same SNVs scored with it and with whole
windows, timed, on the model's default scoring.

The fast path (``ModelAdapter.predict_substitutions``) recomputes only what an SNV changes
from the reference pass's saved state; whole windows run the model on every alternative
sequence in batches. Which is faster depends on the model and the device, so it is measured,
per model, and the answer recorded in the checkpoint's ``config.json``
(``substitution_fast_path``), which the adapter reads; the figures go to ``metrics.json``
(``fast_path``).

    python -m engine.variants.fast_path --model data/models/yeast-demo [--record]

Two sets: ``dense`` (SNVs packed into a few windows, as in a candidate region) and
``spread`` (one SNV per window, as in a genome-wide VCF).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from engine.io.fasta import Genome
from engine.io.files import configured_shifts, merge_json
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.models.base import ModelAdapter
from engine.models.ensemble import Ensemble
from engine.variants.effects import score_variants

SCORERS = ["logSED", "SUM", "D2"]


def dense_snvs(genome: Genome, chrom: str, start: int, count: int) -> list[Variant]:
    """An SNV at each of ``count`` consecutive positions from ``start`` (A/C/G/T only)."""
    text = genome.fetch(Interval(chrom, start, start + 2 * count))
    variants = []
    for offset, base in enumerate(text):
        if base in "ACGT" and len(variants) < count:
            alt = "ACGT"[("ACGT".index(base) + 1) % 4]
            variants.append(Variant(chrom, start + offset, base, alt, "", 0))
    return variants


def spread_snvs(genome: Genome, count: int, spacing: int) -> list[Variant]:
    """``count`` SNVs ``spacing`` bp apart along the contigs, in order."""
    variants = []
    for chrom, length in genome.contig_lengths.items():
        for position in range(spacing // 2, length, spacing):
            base = genome.fetch(Interval(chrom, position, position + 1))
            if base in "ACGT":
                alt = "ACGT"[("ACGT".index(base) + 1) % 4]
                variants.append(Variant(chrom, position, base, alt, "", 0))
            if len(variants) == count:
                return variants
    return variants


def timed_scores(
    model: ModelAdapter, genome: Genome, variants: Sequence[Variant], batch_size: int
) -> tuple[float, np.ndarray]:
    began = time.process_time()
    scores = score_variants(model, genome, variants, scorers=SCORERS, batch_size=batch_size)
    return time.process_time() - began, scores.scores


def compare(
    load: Callable[[], ModelAdapter],
    genome: Genome,
    sets: dict[str, list[Variant]],
    *,
    shifts: Sequence[int],
    batch_size: int = 8,
) -> dict:
    """CPU seconds per allele with the fast path and with whole windows on each set, and the
    largest score difference between the two (they must agree: it is an exact rewrite)."""
    fast, whole = load(), load()
    fast.supports_substitutions, whole.supports_substitutions = True, False
    result: dict = {"shifts": list(shifts), "batch_size": batch_size}
    for name, variants in sets.items():
        timings = {}
        for label, adapter in (("fast_path", fast), ("whole_windows", whole)):
            ensemble = Ensemble([adapter], shifts=shifts)
            timed_scores(ensemble, genome, variants[:8], batch_size)  # warm-up
            timings[label] = timed_scores(ensemble, genome, variants, batch_size)
        (fast_s, fast_scores), (whole_s, whole_scores) = timings.values()
        result[name] = {
            "alleles": len(variants),
            "fast_path_cpu_s_per_allele": round(fast_s / len(variants), 5),
            "whole_windows_cpu_s_per_allele": round(whole_s / len(variants), 5),
            "speedup": round(whole_s / fast_s, 3),
            "max_abs_difference": float(np.nanmax(np.abs(fast_scores - whole_scores))),
        }
    # Slower on either kind of VCF: whole windows everywhere, one code path.
    result["use_fast_path"] = all(result[name]["speedup"] > 1 for name in sets)
    return result


def main(argv: list[str] | None = None) -> None:
    from engine.models import runtime
    from engine.models.yeast import YeastAdapter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a yeast model folder")
    parser.add_argument("--data", type=Path, default=Path("data/yeast"))
    parser.add_argument("--variants", type=int, default=200, help="SNVs per set")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the decision to config.json (substitution_fast_path) and the figures to "
        "metrics.json (fast_path)",
    )
    args = parser.parse_args(argv)
    genome = Genome(args.data / "sacCer3.fa.gz")
    runtime.keep_freed_memory()
    sets = {
        "dense": dense_snvs(genome, "XII", 460_000, args.variants),
        "spread": spread_snvs(genome, args.variants, spacing=50_000),
    }

    def load() -> ModelAdapter:
        adapter = YeastAdapter(args.model, device=runtime.device())
        if adapter.model.config.pool != "max":
            raise SystemExit("this model has no fast path to measure (anti-aliased pooling)")
        return adapter

    shifts = configured_shifts(args.model)
    result = compare(load, genome, sets, shifts=shifts, batch_size=args.batch_size)
    result["device"] = str(runtime.device())
    if args.record:
        merge_json(args.model / "config.json", {"substitution_fast_path": result["use_fast_path"]})
        merge_json(args.model / "metrics.json", {"fast_path": result})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
