"""Write demo_variants.vcf: variants in yeast promoters, plus a few records that show the report.

Run from the repository root: ``python data/yeast/make_demo_vcf.py``. Deterministic: the
variants sit at fixed offsets upstream of well-known genes' starts, with REF read from the genome.
The last records are deliberately wrong (a REF mismatch, an unknown contig, a symbolic allele)
so the validation report has something to explain.
"""

from pathlib import Path

import pyfaidx

HERE = Path(__file__).resolve().parent
GENES = [
    "GAL1",
    "GAL10",
    "GAL7",
    "ADH1",
    "PHO5",
    "TDH3",
    "CYC1",
    "ACT1",
    "HIS3",
    "URA3",
    "LEU2",
    "PGK1",
    "ENO2",
    "TEF1",
    "HSP104",
]
UPSTREAM = [40, 95, 150]  # bp upstream of the annotated start, where yeast TSSs and TATA sit
SWAP = {"A": "G", "C": "T", "G": "A", "T": "C"}


def gene_starts() -> dict[str, tuple[str, int, str]]:
    found = {}
    for line in (HERE / "genes_R64.gff3").read_text().splitlines():
        fields = line.split("\t")
        if len(fields) != 9 or fields[2] != "gene":
            continue
        name = dict(kv.split("=", 1) for kv in fields[8].split(";")).get("Name")
        if name in GENES:
            start, end = int(fields[3]), int(fields[4])  # 1-based inclusive
            found[name] = (fields[0], start if fields[6] == "+" else end, fields[6])
    return found


def records(genome: pyfaidx.Fasta) -> list[tuple[str, int, str, str, str]]:
    rows = []
    for name, (chrom, start, strand) in sorted(gene_starts().items()):
        for offset in UPSTREAM:
            pos = start - offset if strand == "+" else start + offset
            ref = genome[chrom][pos - 1 : pos].seq.upper()
            rows.append((chrom, pos, f"{name}_up{offset}", ref, SWAP[ref]))
    chrom, start, _ = gene_starts()["GAL1"]
    deleted = genome[chrom][start - 61 : start - 55].seq.upper()
    rows.append((chrom, start - 60, "GAL1_del5", deleted, deleted[0]))
    anchor = genome[chrom][start - 121 : start - 120].seq.upper()
    rows.append((chrom, start - 120, "GAL1_ins_TATA", anchor, anchor + "TATAAA"))
    return rows


def teaching_records(genome: pyfaidx.Fasta, chrom: str, pos: int) -> list[str]:
    """A multi-allelic record spelled chrVI, then three records the report must refuse."""
    base = genome[chrom][pos + 999 : pos + 1000].seq.upper()
    others = ",".join(b for b in "ACGT" if b != base)
    ref = genome[chrom][pos - 1 : pos].seq.upper()
    symbolic_ref = genome[chrom][pos + 499 : pos + 500].seq.upper()
    return [
        f"chr{chrom}\t{pos + 1000}\tmultiallelic_chr_spelling\t{base}\t{others}\t.\tPASS\t.",
        f"{chrom}\t{pos}\tref_mismatch\t{SWAP[ref]}\t{ref}\t.\tPASS\t.",
        "chrXVII\t1000\tno_such_contig\tA\tG\t.\tPASS\t.",
        f"{chrom}\t{pos + 500}\tsymbolic\t{symbolic_ref}\t<DEL>\t.\tPASS\tSVTYPE=DEL",
    ]


def main() -> None:
    genome = pyfaidx.Fasta(str(HERE / "sacCer3.fa.gz"))
    lines = ["##fileformat=VCFv4.2", "##source=genomeweb demo (data/yeast/make_demo_vcf.py)"]
    lines += [f"##contig=<ID={c},length={len(genome[c])}>" for c in genome.keys()]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    for chrom, pos, ident, ref, alt in records(genome):
        lines.append(f"{chrom}\t{pos}\t{ident}\t{ref}\t{alt}\t.\tPASS\t.")
    lines += teaching_records(genome, *records(genome)[0][:2])
    (HERE / "demo_variants.vcf").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
