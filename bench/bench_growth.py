"""How scoring cost and memory grow with the number of variants: ``manage.py score_variants``
on 1k, 5k and 20k real-density yeast variants, dense and spread, each run a fresh process.

The variants come from bench/make_yeast_vcf.py's genome-wide file (one record per ~46 bp, as
Ensembl's yeast file): ``dense`` takes consecutive records from the start of chromosome IV;
``spread`` takes every 13th record of the genome (one per ~600 bp, as far apart as 20k
variants can be in 12 Mb), so each size has the same density and only the count changes.
Prints seconds, alleles/s, CPU-s per allele, peak RSS, and each size's cost per allele
relative to the smallest (1.00 = linear growth).

    python bench/make_yeast_vcf.py                 # once
    python bench/bench_growth.py [--sizes 1000 5000 20000] [--shifts 0]
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "var" / "bench" / "yeast_260k.vcf.gz"
SPREAD_STEP = 13


def records(source: Path) -> tuple[list[str], list[str]]:
    with gzip.open(source, "rt") as handle:
        lines = handle.readlines()
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    return header, body


def pick(body: list[str], layout: str, size: int) -> list[str]:
    if layout == "dense":
        start = next(i for i, line in enumerate(body) if line.startswith("IV\t"))
        return body[start : start + size]
    return body[::SPREAD_STEP][:size]


def environment(var: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # the embedded SQLite default, in a folder of its own
    env |= {"GW_VAR_DIR": str(var), "GW_SECRET_KEY": "bench-only-" + "x" * 40}
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, capture_output=True
    )


def score(env: dict[str, str], vcf: Path, out: Path, shifts: list[str]) -> dict:
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "score_variants",
        "--model",
        "yeast-demo",
        "--vcf",
        str(vcf),
        "--out",
        str(out),
        "--shifts",
        *shifts,
    ]
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    stdout = process.stdout.read().decode()
    if status:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    scored = int(next(w for w in stdout.split("scored ")[1].split()[:1]))
    return {
        "alleles": scored,
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--layouts", nargs="+", default=["dense", "spread"])
    parser.add_argument("--shifts", nargs="+", default=["0"], help="passed to score_variants")
    args = parser.parse_args()
    if not SOURCE.is_file():
        sys.exit(f"no {SOURCE}: run python bench/make_yeast_vcf.py first")
    header, body = records(SOURCE)
    with tempfile.TemporaryDirectory(prefix="gw-growth-") as folder:
        var = Path(folder)
        env = environment(var)
        manage(env, "migrate", "-v0")
        manage(env, "load_demo")
        threads = os.environ.get("OMP_NUMBER_THREADS") or os.cpu_count()
        print(
            f"score_variants, yeast-demo, RC + shifts {' '.join(args.shifts)}, "
            f"{threads} CPU threads, 9 scorers, all tracks"
        )
        print(
            f"{'layout':<8}{'alleles':>9}{'seconds':>9}{'alleles/s':>11}{'CPU-s/allele':>14}"
            f"{'peak RSS':>10}{'cost vs first':>15}"
        )
        for layout in args.layouts:
            first = None
            for size in args.sizes:
                vcf = var / f"{layout}_{size}.vcf"
                vcf.write_text("".join(header + pick(body, layout, size)))
                run = score(env, vcf, var / f"{layout}_{size}.tsv", args.shifts)
                per_allele = run["cpu"] / run["alleles"]
                first = first or per_allele
                print(
                    f"{layout:<8}{run['alleles']:>9,}{run['seconds']:>9.1f}"
                    f"{run['alleles'] / run['seconds']:>11.1f}{per_allele:>14.4f}"
                    f"{run['rss_mb']:>8.0f}MB{per_allele / first:>15.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
