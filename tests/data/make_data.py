"""Regenerate the tiny real test files in this folder from the yeast data in data/yeast.

Run from the repository root: ``python tests/data/make_data.py``. The files are small slices
of the S. cerevisiae R64 genome (chrI 1-6,000 and chrII 1-4,000) and the genes that fall in them,
plus mini.gtf, the same genes with made-up 2-exon transcripts. See README.md in this folder.
"""

from pathlib import Path

import pyfaidx
import pysam

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SLICES = {"I": 6000, "II": 4000}


def write_fasta() -> None:
    genome = pyfaidx.Fasta(str(ROOT / "data/yeast/sacCer3.fa.gz"))
    path = HERE / "mini.fa"
    with path.open("w") as out:
        for chrom, length in SLICES.items():
            seq = genome[chrom][0:length].seq
            out.write(f">{chrom}\n")
            for i in range(0, length, 60):
                out.write(seq[i : i + 60] + "\n")
    pysam.faidx(str(path))
    pysam.tabix_compress(str(path), str(path) + ".gz", force=True)
    pysam.faidx(str(path) + ".gz")
    (HERE / "mini.chrom.sizes").write_text("".join(f"{c}\t{n}\n" for c, n in SLICES.items()))


def write_gff3() -> None:
    lines = ["##gff-version 3\n"]
    for line in (ROOT / "data/yeast/genes_R64.gff3").read_text().splitlines(keepends=True):
        fields = line.split("\t")
        if len(fields) == 9 and fields[0] in SLICES and int(fields[4]) <= SLICES[fields[0]]:
            lines.append(line)
    (HERE / "mini.gff3").write_text("".join(lines))


def gtf_line(chrom: str, feature: str, start: int, end: int, strand: str, attrs: str) -> str:
    return f"{chrom}\tmini\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{attrs}\n"


def write_gtf() -> None:
    """mini.gtf: the genes of mini.gff3, each with one made-up 2-exon transcript.

    The middle third of each gene becomes an intron (yeast genes here have none; the intron only
    exercises exon parsing). chrI genes get a ``gene`` row; chrII genes have transcript and exon
    rows only, so a reader must derive those genes from their exons.
    """
    lines = ['#!description "genomeweb test fixture, see tests/data/README.md"\n']
    for line in (HERE / "mini.gff3").read_text().splitlines():
        if line.startswith("#"):
            continue
        chrom, _, _, first, last, _, strand, _, attributes = line.split("\t")
        start, end = int(first), int(last)
        fields = dict(pair.split("=") for pair in attributes.split(";"))
        gene = f'gene_id "{fields["ID"]}"; gene_name "{fields["Name"]}"; '
        gene += 'gene_biotype "protein_coding";'
        transcript = f'{gene} transcript_id "{fields["ID"]}_mRNA";'
        third = (end - start + 1) // 3
        exons = [(start, start + third - 1), (end - third + 1, end)]
        if strand == "-":
            exons.reverse()  # exon_number 1 is the 5' exon, which is rightmost on the - strand
        if chrom == "I":
            lines.append(gtf_line(chrom, "gene", start, end, strand, gene))
        lines.append(gtf_line(chrom, "transcript", start, end, strand, transcript))
        for number, (exon_start, exon_end) in enumerate(exons, start=1):
            exon = f"{transcript} exon_number {number};"
            lines.append(gtf_line(chrom, "exon", exon_start, exon_end, strand, exon))
    (HERE / "mini.gtf").write_text("".join(lines))


if __name__ == "__main__":
    write_fasta()
    write_gff3()
    write_gtf()
