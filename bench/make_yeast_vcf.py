"""Write a genome-wide yeast VCF with the size and make-up of Ensembl's S. cerevisiae variation
file (260,526 records), from the shipped sacCer3 genome, for the intake benchmark.

Ensembl's file cannot be fetched at run time (no internet), so this draws one like it: records
spread over all 16 contigs in proportion to their length, sorted; ~87 % SNVs, ~4 % SNV records
with two ALTs, ~9 % short indels (deletions of 1-12 bp, insertions of 1-8 bp). Indels are placed
at random, so those inside repeats are written as the caller happened to place them, not
left-aligned, as in real files; about one record in 5,000 has a REF that does not match, and
INFO looks like Ensembl's (``dbSNP_150;TSA=SNV``). The same seed writes the same bytes.

    python bench/make_yeast_vcf.py --out var/bench/yeast_260k.vcf.gz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.io.fasta import Genome  # noqa: E402
from engine.io.intervals import Interval  # noqa: E402
from engine.io.vcf import write_bgzip  # noqa: E402

RECORDS = 260_526
GENOME = ROOT / "data" / "yeast" / "sacCer3.fa.gz"
BASES = np.array(list("ACGT"))


def draw(genome: Genome, records: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names = list(genome.contig_lengths)
    lengths = np.array([genome.contig_lengths[name] for name in names])
    per_contig = rng.multinomial(records, lengths / lengths.sum())
    lines = []
    serial = 0
    for name, length, count in zip(names, lengths, per_contig, strict=True):
        sequence = genome.fetch(Interval(name, 0, int(length))).upper()
        starts = np.sort(rng.choice(np.arange(1, length - 20), size=count, replace=False))
        kinds = rng.random(count)
        for start, kind in zip(starts.tolist(), kinds.tolist(), strict=True):
            serial += 1
            lines.append(_record(rng, name, sequence, start, kind, serial))
    return lines


def _record(rng, chrom: str, sequence: str, start: int, kind: float, serial: int) -> str:
    ref_base = sequence[start]
    if kind < 0.87 or ref_base == "N":
        ref, alts, tsa = ref_base, [_other_base(rng, ref_base)], "SNV"
    elif kind < 0.91:
        first = _other_base(rng, ref_base)
        second = _other_base(rng, ref_base, avoid=first)
        ref, alts, tsa = ref_base, [first, second], "SNV"
    elif kind < 0.955:
        size = int(rng.integers(1, 13))
        ref, alts, tsa = sequence[start : start + 1 + size], [ref_base], "deletion"
    else:
        inserted = "".join(rng.choice(BASES, size=int(rng.integers(1, 9))))
        ref, alts, tsa = ref_base, [ref_base + inserted], "insertion"
    if rng.random() < 2e-4:  # a REF the genome does not have, as in a file for another strain
        ref = _other_base(rng, ref[0]) + ref[1:]
    ident = f"rs{1_000_000_000 + serial}" if rng.random() < 0.8 else "."
    info = f"dbSNP_150;TSA={tsa}" + (";E_Freq" if rng.random() < 0.1 else "")
    return f"{chrom}\t{start + 1}\t{ident}\t{ref}\t{','.join(alts)}\t.\t.\t{info}\n"


def _other_base(rng, base: str, avoid: str = "") -> str:
    choices = [b for b in "ACGT" if b != base and b != avoid]
    return choices[int(rng.integers(len(choices)))]


def header(genome: Genome) -> list[str]:
    lines = ["##fileformat=VCFv4.1\n", "##source=genomeweb bench/make_yeast_vcf.py\n"]
    lines += [f"##contig=<ID={n},length={length}>\n" for n, length in genome.contig_lengths.items()]
    lines += [
        '##INFO=<ID=TSA,Number=1,Type=String,Description="Type of sequence alteration">\n',
        '##INFO=<ID=E_Freq,Number=0,Type=Flag,Description="Frequency evidence">\n',
        '##INFO=<ID=dbSNP_150,Number=0,Type=Flag,Description="Variants (dbSNP 150)">\n',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "yeast_260k.vcf.gz")
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    genome = Genome(GENOME)
    try:
        lines = draw(genome, args.records, args.seed)
        write_bgzip(args.out, header(genome) + lines)
    finally:
        genome.close()
    print(f"{len(lines):,} records -> {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
