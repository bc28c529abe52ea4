"""VCF intake speed and memory against pysam (htslib) on a 260,526-record yeast VCF.

Each contender runs in a fresh Python process, so its peak RSS is its own; CPU seconds count
only the work (not the imports). Contenders:

- ``genomeweb``: the upload intake, ``validate_vcf`` (every check, REF against the genome,
  multi-allelic split, left-alignment, sort, duplicates) then ``write_normalized_vcf`` (bgzip +
  tabix);
- ``genomeweb-validate``: ``validate_vcf`` alone;
- ``pysam``: htslib iterating the same file, reading CHROM, POS, ID, REF and ALT of each record
  (the floor: reading, nothing checked);
- ``pysam+REF``: what a user would script with pysam: iterate, fetch each REF from the FASTA
  with ``pysam.FastaFile`` and compare, split ALTs (no normalisation, sort or output).

    python bench/make_yeast_vcf.py            # once: var/bench/yeast_260k.vcf.gz
    python bench/bench_vcf_intake.py [--vcf PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENOME = ROOT / "data" / "yeast" / "sacCer3.fa.gz"
DEFAULT_VCF = ROOT / "var" / "bench" / "yeast_260k.vcf.gz"
CONTENDERS = ("genomeweb", "genomeweb-validate", "pysam", "pysam+REF")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_genomeweb(vcf: Path, write: bool) -> int:
    from engine.io.fasta import Genome
    from engine.io.vcf import validate_vcf, write_normalized_vcf

    genome = Genome(GENOME)
    try:
        report = validate_vcf(vcf, genome)
        if write:
            with tempfile.TemporaryDirectory() as out:
                write_normalized_vcf(report, genome, Path(out) / "normalized.vcf.gz")
    finally:
        genome.close()
    return report.records_read


def run_pysam(vcf: Path) -> int:
    import pysam

    records = 0
    with pysam.VariantFile(str(vcf)) as handle:
        for record in handle:
            _ = record.chrom, record.pos, record.id, record.ref, record.alts
            records += 1
    return records


def run_pysam_ref(vcf: Path) -> int:
    import pysam

    records = mismatches = 0
    with pysam.VariantFile(str(vcf)) as handle, pysam.FastaFile(str(GENOME)) as fasta:
        for record in handle:
            ref = record.ref.upper()
            if fasta.fetch(record.chrom, record.pos - 1, record.pos - 1 + len(ref)) != ref:
                mismatches += 1
            _ = [(record.pos, ref, alt) for alt in record.alts or ()]
            records += 1
    return records


def child(name: str, vcf: Path) -> None:
    """Run one contender in this process and print its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    import pysam  # noqa: F401  (imported before the baseline for every contender alike)

    from engine.io import fasta  # noqa: F401

    baseline = peak_rss_mb()
    work = {
        "genomeweb": lambda: run_genomeweb(vcf, write=True),
        "genomeweb-validate": lambda: run_genomeweb(vcf, write=False),
        "pysam": lambda: run_pysam(vcf),
        "pysam+REF": lambda: run_pysam_ref(vcf),
    }[name]
    wall, cpu = time.perf_counter(), time.process_time()
    records = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures = {"records": records, "cpu": cpu, "wall": wall}
    print(json.dumps(figures | {"rss": peak_rss_mb(), "baseline_rss": baseline}))


def measure(name: str, vcf: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--vcf", str(vcf)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return min(runs, key=lambda run: run["cpu"]) | {"rss": max(run["rss"] for run in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vcf", type=Path, default=DEFAULT_VCF)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; best CPU kept")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.vcf)
        return
    if not args.vcf.is_file():
        sys.exit(f"no {args.vcf}: run python bench/make_yeast_vcf.py first")
    results = {name: measure(name, args.vcf, args.repeat) for name in CONTENDERS}
    floor = results["pysam"]
    print(f"{args.vcf.name}: {floor['records']:,} records; best CPU of {args.repeat} runs each")
    print(
        f"{'contender':<20}{'CPU s':>8}{'wall s':>8}{'rec/CPU-s':>12}{'peak RSS':>10}"
        f"{'(imports)':>10}{'CPU vs pysam':>14}"
    )
    for name, r in results.items():
        rate = r["records"] / r["cpu"]
        print(
            f"{name:<20}{r['cpu']:>8.2f}{r['wall']:>8.2f}{rate:>12,.0f}{r['rss']:>8.0f}MB"
            f"{r['baseline_rss']:>8.0f}MB{r['cpu'] / floor['cpu']:>13.2f}x"
        )


if __name__ == "__main__":
    main()
