"""ISM speed: positions per second for the demo model, fast path and plain path; prints JSON.

    .venv/bin/python bench/bench_ism.py [--bp 192] [--batch-size 32] [--threads N]

The 192 bp upstream of HIS3's start codon (the focused-ISM width of MODEL_NOTES.md), in an
8,192 bp window centred on it, objective = log2(1 + HIS3's + strand tracks over its gene
region: 300 bp before to 50 bp into its start), reverse complement on. The fast path recomputes
the conv tower only around each mutation; the plain path predicts every mutant whole. Both must
give the same matrix (their largest difference is printed).
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.interpret.ism import ism  # noqa: E402
from engine.interpret.objectives import gene_objective  # noqa: E402
from engine.io.annotation import read_genes  # noqa: E402
from engine.io.encoding import one_hot  # noqa: E402
from engine.io.fasta import Genome  # noqa: E402
from engine.io.intervals import Interval  # noqa: E402
from engine.models.ensemble import Ensemble  # noqa: E402
from engine.models.yeast import YeastAdapter  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "data/models/yeast-demo")
    parser.add_argument("--data", type=Path, default=ROOT / "data/yeast")
    parser.add_argument("--gene", default="HIS3")
    parser.add_argument("--bp", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    genome = Genome(args.data / "sacCer3.fa.gz")
    gene = next(g for g in read_genes(args.data / "genes_R64.gff3") if g.name == args.gene)
    model = Ensemble([YeastAdapter(args.model)], reverse_complement=True)
    upstream = gene.start - 250 if gene.strand == "+" else gene.end + 58
    region = Interval(gene.chrom, upstream, upstream + args.bp)
    start = upstream + args.bp // 2 - model.sequence_length // 2  # the window centred on it
    window = Interval(gene.chrom, start, start + model.sequence_length)
    objective = gene_objective(model, window, gene)
    onehot = one_hot(genome.fetch(window))
    first = region.start - window.start
    ism(model, onehot, objective, first, first + 4, batch_size=args.batch_size)  # warm-up

    timings, matrices = {}, {}
    for name, fast in (("fast", True), ("plain", False)):
        began = time.perf_counter()
        result = ism(
            model, onehot, objective, first, first + args.bp, batch_size=args.batch_size, fast=fast
        )
        timings[name] = time.perf_counter() - began
        matrices[name] = result.effects
    print(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "model": args.model.name,
                "region": region.to_ucsc(),
                "objective": objective.description,
                "reverse_complement": True,
                "mutants": result.forward_passes,
                "batch_size": args.batch_size,
                "fast_seconds": round(timings["fast"], 2),
                "plain_seconds": round(timings["plain"], 2),
                "fast_positions_per_s": round(args.bp / timings["fast"], 2),
                "plain_positions_per_s": round(args.bp / timings["plain"], 2),
                "speedup": round(timings["plain"] / timings["fast"], 2),
                "max_abs_difference": float(np.abs(matrices["fast"] - matrices["plain"]).max()),
                "largest_effect": float(np.abs(matrices["plain"]).max()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
