"""Variant effect scoring speed, against what a user would otherwise run; prints JSON.

    .venv/bin/python bench/bench_variant_effects.py [--variants 200] [--threads 2]

On two sets of real-genome SNVs scored with the demo model (data/models/yeast-demo), with the
same ensembling on every side (reverse complement and the model's default input shifts, each
pass scored and the scores averaged, Calico's order):

- ``engine``: ``score_variants`` (shared reference windows, alleles batched through the
  model's fast path for substitutions);
- ``batched_script``: the Borzoi-script method as a user writes it: one window centred on each
  variant, its reference and alternative (forward and reverse complement, each shift) batched
  across ``--batch-size`` variants per forward, nothing shared;
- ``tangermeme``: tangermeme's ``substitution_effect`` on the same network and windows, when
  tangermeme is importable (``pip install tangermeme``; not a runtime dependency).

Sets: ``dense`` (SNVs packed into one 8 kb stretch, a fine-mapping interval) and ``spread`` (one
SNV near each of randomly chosen gene starts genome-wide, at least a window apart). Printed:
alleles/s, CPU seconds per allele, the FLOP rate reached as a fraction of this CPU's measured
float32 matmul rate (FLOPs counted by torch's FlopCounterMode on the first ``--flop-sample``
alleles and scaled to the set: an estimate where windows are shared), the ratios engine /
others, and how far the engine's logSEDs agree with the centred windows' (Pearson).
tangermeme scores the prediction averaged over the passes (it has no per-pass scoring), so its
numbers differ slightly from the other two; its speed is what is compared.
"""

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.io.annotation import read_genes  # noqa: E402
from engine.io.encoding import one_hot_batch  # noqa: E402
from engine.io.fasta import Genome  # noqa: E402
from engine.io.intervals import Interval  # noqa: E402
from engine.io.vcf import Variant  # noqa: E402
from engine.models.ensemble import Ensemble, reverse_complement, shift  # noqa: E402
from engine.models.runtime import keep_freed_memory  # noqa: E402
from engine.models.yeast import YeastAdapter  # noqa: E402
from engine.variants.effects import score_variants  # noqa: E402
from engine.variants.scorers import score_all  # noqa: E402

SCORERS = ["logSED", "SUM", "D2"]


# --- variant sets -----------------------------------------------------------------------------


def snv_at(genome: Genome, chrom: str, start: int, rng: random.Random, index: int) -> Variant:
    ref = genome.fetch(Interval(chrom, start, start + 1))
    alt = rng.choice([base for base in "ACGT" if base != ref])
    return Variant(chrom, start, ref, alt, f"snv{index}", 0)


def dense_snvs(genome: Genome, count: int, seed: int, span: int = 8_192) -> list[Variant]:
    """``count`` SNVs at distinct random positions of one ``span``-bp stretch of chromosome XV."""
    rng = random.Random(seed)
    first = 500_000
    positions = sorted(rng.sample(range(first, first + span), count))
    found = [snv_at(genome, "XV", p, rng, i) for i, p in enumerate(positions)]
    return [v for v in found if v.ref in "ACGT"]


def spread_snvs(genome: Genome, data: Path, count: int, seed: int, apart: int) -> list[Variant]:
    """One SNV within 300 bp of each of ``count`` random gene starts, ``apart`` bp apart."""
    rng = random.Random(seed)
    genes = [g for g in read_genes(data / "genes_R64.gff3") if g.chrom in genome.contig_lengths]
    rng.shuffle(genes)
    found: list[Variant] = []
    for gene in genes:
        start = gene.tss + rng.randrange(-300, 301)
        near = any(v.chrom == gene.chrom and abs(v.start - start) < apart for v in found)
        if near or not apart <= start < genome.contig_lengths[gene.chrom] - apart:
            continue
        variant = snv_at(genome, gene.chrom, start, rng, len(found))
        if variant.ref in "ACGT":
            found.append(variant)
        if len(found) == count:
            break
    return sorted(found, key=lambda v: (v.chrom, v.start))


# --- the batched per-variant script -----------------------------------------------------------


def batched_script(
    adapter: YeastAdapter, genome: Genome, variants: list[Variant], shifts, batch_size: int
) -> np.ndarray:
    """``(V, T, S)`` scores from windows centred on each variant; per forward, ``batch_size``
    variants' reference and alternative of one (shift, strand) pass."""
    length, pairs = adapter.sequence_length, adapter.tracks.strand_pairs()
    out = []
    for first in range(0, len(variants), batch_size):
        chunk = variants[first : first + batch_size]
        texts = []
        for v in chunk:
            start = v.start - length // 2
            ref = genome.fetch(Interval(v.chrom, start, start + length))
            texts += [ref, ref[: length // 2] + v.alt + ref[length // 2 + 1 :]]
        onehot = torch.from_numpy(one_hot_batch(texts))  # (2b, L, 4): ref, alt, ref, alt, …
        passes = []
        for bp in shifts:
            for rc in (False, True):
                x = shift(onehot, bp)
                pred = adapter.predict(reverse_complement(x) if rc else x)
                if rc:
                    pred = pred.flip(dims=(1,))[:, :, pairs]
                passes.append(score_all(pred[0::2], pred[1::2], SCORERS))
        out.append(torch.stack(passes).mean(dim=0))
    return torch.cat(out).numpy()


# --- tangermeme -------------------------------------------------------------------------------


class _PassAverage(torch.nn.Module):
    """The network as tangermeme calls it, ``(B, 4, L)`` → ``(B, bins, T)``, averaging the
    passes' predictions (tangermeme has no ensembling of its own)."""

    def __init__(self, adapter: YeastAdapter, shifts) -> None:
        super().__init__()
        self.adapter, self.shifts = adapter, shifts
        self.pairs = adapter.tracks.strand_pairs()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        onehot, total = x.transpose(1, 2), 0
        for bp in self.shifts:
            moved = shift(onehot, bp)
            total = total + self.adapter.predict(moved)
            rc = self.adapter.predict(reverse_complement(moved))
            total = total + rc.flip(dims=(1,))[:, :, self.pairs]
        return total / (2 * len(self.shifts))


def tangermeme_scores(
    adapter: YeastAdapter, genome: Genome, variants: list[Variant], shifts, batch_size: int
) -> np.ndarray:
    from tangermeme.variant_effect import substitution_effect

    length = adapter.sequence_length
    texts = []
    for v in variants:
        start = v.start - length // 2
        texts.append(genome.fetch(Interval(v.chrom, start, start + length)))
    x = torch.from_numpy(one_hot_batch(texts)).transpose(1, 2).contiguous()
    rows = [[i, length // 2, "ACGT".index(v.alt)] for i, v in enumerate(variants)]
    substitutions = torch.tensor(rows)
    model = _PassAverage(adapter, shifts)
    before, after = substitution_effect(
        model, x, substitutions, batch_size=batch_size, device="cpu", verbose=False
    )
    return score_all(before, after, SCORERS).numpy()


# --- measuring --------------------------------------------------------------------------------


def timed(function: Callable, *args, **kwargs) -> tuple[object, float, float]:
    """The result, wall seconds and CPU seconds (all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def matmul_rate(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """This CPU's float32 matmul rate (FLOP/s) at ``threads`` threads, the best of a few."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(timed(torch.mm, a, b)[1] for _ in range(repeats))
    return 2 * size**3 / best


def counted_flops(function: Callable, *args, **kwargs) -> int:
    with FlopCounterMode(display=False) as counter:
        function(*args, **kwargs)
    return counter.get_total_flops()


def pearson(first: np.ndarray, second: np.ndarray) -> float:
    a, b = np.ravel(first), np.ravel(second)
    return round(float(np.corrcoef(a, b)[0, 1]), 4)


def measure(args, adapter: YeastAdapter, genome: Genome, variants: list[Variant], rate: float):
    """Every contender on one set: speed, CPU, FLOP rate and agreement of logSED."""
    model = Ensemble([adapter], reverse_complement=True, shifts=args.shifts)
    log_sed = SCORERS.index("logSED")
    contenders = {
        "engine": lambda vs: (
            score_variants(model, genome, vs, scorers=SCORERS, batch_size=args.batch_size).scores
        ),
        "batched_script": lambda vs: batched_script(
            adapter, genome, vs, args.shifts, args.batch_size
        ),
    }
    if args.tangermeme and _has_tangermeme():
        contenders["tangermeme"] = lambda vs: tangermeme_scores(
            adapter, genome, vs, args.shifts, args.batch_size
        )
    found: dict = {}
    scores: dict = {}
    for name, run in contenders.items():
        run(variants[:2])  # warm-up
        scores[name], wall, cpu = timed(run, variants)
        flops = counted_flops(run, variants[: args.flop_sample]) * len(variants) / args.flop_sample
        found[name] = {
            "seconds": round(wall, 2),
            "alleles_per_s": round(len(variants) / wall, 2),
            "cpu_s_per_allele": round(cpu / len(variants), 4),
            "gflop_per_allele": round(flops / len(variants) / 1e9, 2),
            "fraction_of_matmul_rate": round(flops / wall / rate, 3),
        }
    for name in contenders:
        if name != "engine":
            found[f"engine_vs_{name}"] = round(
                found["engine"]["alleles_per_s"] / found[name]["alleles_per_s"], 2
            )
    found["logSED_pearson_engine_vs_centred"] = pearson(
        scores["engine"][..., log_sed], scores["batched_script"][..., log_sed]
    )
    if "tangermeme" in scores:
        found["logSED_pearson_tangermeme_vs_script"] = pearson(
            scores["tangermeme"][..., log_sed], scores["batched_script"][..., log_sed]
        )
    return found


def _has_tangermeme() -> bool:
    try:
        import tangermeme  # noqa: F401
    except ImportError:
        return False
    return True


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "data/models/yeast-demo")
    parser.add_argument("--data", type=Path, default=ROOT / "data/yeast")
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--sets", nargs="+", default=["spread", "dense"])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--shifts", type=int, nargs="+", help="default: the model's default_shifts (config.json)"
    )
    parser.add_argument("--flop-sample", type=int, default=16, help="alleles counted for FLOPs")
    parser.add_argument("--no-tangermeme", dest="tangermeme", action="store_false")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    keep_freed_memory()  # the same allocator for every contender: they share this process
    config = json.loads((args.model / "config.json").read_text())
    args.shifts = tuple(args.shifts or config.get("default_shifts", [0]))
    genome = Genome(args.data / "sacCer3.fa.gz")
    adapter = YeastAdapter(args.model)
    rate = matmul_rate(args.threads)
    sets = {
        "dense": lambda: dense_snvs(genome, args.variants, args.seed),
        "spread": lambda: spread_snvs(
            genome, args.data, args.variants, args.seed, adapter.sequence_length
        ),
    }
    result = {
        "machine": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "matmul_gflop_per_s": round(rate / 1e9, 1),
        "model": args.model.name,
        "window_bp": adapter.sequence_length,
        "reverse_complement": True,
        "shifts": list(args.shifts),
        "batch_size": args.batch_size,
        "scorers": SCORERS,
    }
    for name in args.sets:
        variants = sets[name]()
        result[name] = {"alleles": len(variants)} | measure(args, adapter, genome, variants, rate)
        print(json.dumps({name: result[name]}), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
