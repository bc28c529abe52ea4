import gzip
import shutil
import time
from pathlib import Path

import pytest

from engine.io.annotation import Exon, Gene, read_genes

DATA = Path(__file__).resolve().parents[2] / "data"
YEAST_GFF3 = Path(__file__).resolve().parents[3] / "data" / "yeast" / "genes_R64.gff3"


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("".join("\t".join(line.split("|")) + "\n" for line in lines))
    return path


def by_id(genes: list[Gene]) -> dict[str, Gene]:
    return {gene.gene_id: gene for gene in genes}


def test_it_reads_gff3_gene_rows_in_zero_based_coordinates() -> None:
    genes = read_genes(DATA / "mini.gff3")
    assert [gene.gene_id for gene in genes] == ["YAL068C", "YAL067W-A", "YBL113C", "YBL112C"]
    pau8 = genes[0]
    # mini.gff3 line: I SGD gene 1807 2169 . - . ID=YAL068C;Name=PAU8
    assert (pau8.name, pau8.chrom, pau8.start, pau8.end, pau8.strand) == (
        "PAU8",
        "I",
        1806,
        2169,
        "-",
    )


def test_a_gene_without_exon_rows_gets_one_exon_spanning_it() -> None:
    pau8 = read_genes(DATA / "mini.gff3")[0]
    assert pau8.exons == (Exon(1806, 2169),)


def test_gff3_biotype_falls_back_to_the_feature_type() -> None:
    assert {gene.biotype for gene in read_genes(DATA / "mini.gff3")} == {"gene"}


def test_tss_is_the_first_base_on_the_genes_strand() -> None:
    genes = by_id(read_genes(DATA / "mini.gff3"))
    assert genes["YAL067W-A"].tss == 2479  # + strand: 1-based start 2480
    assert genes["YAL068C"].tss == 2168  # - strand: 1-based end 2169


def test_it_reads_gtf_exons_of_two_exon_transcripts() -> None:
    genes = by_id(read_genes(DATA / "mini.gtf"))
    # mini.gtf exons of YAL068C: 1807-1927 and 2049-2169 (1-based inclusive).
    assert genes["YAL068C"].exons == (Exon(1806, 1927), Exon(2048, 2169))
    assert genes["YAL068C"].name == "PAU8"
    assert genes["YAL068C"].biotype == "protein_coding"


def test_gtf_genes_without_gene_rows_span_their_exons() -> None:
    genes = by_id(read_genes(DATA / "mini.gtf"))
    ybl113c = genes["YBL113C"]  # chrII genes have no gene row in mini.gtf
    assert (ybl113c.chrom, ybl113c.start, ybl113c.end, ybl113c.strand) == ("II", 279, 2658, "-")


def test_gtf_and_gff3_agree_on_gene_loci() -> None:
    def locus(gene: Gene) -> tuple[str, str, str, int, int, str]:
        return (gene.gene_id, gene.name, gene.chrom, gene.start, gene.end, gene.strand)

    from_gtf = [locus(gene) for gene in read_genes(DATA / "mini.gtf")]
    assert from_gtf == [locus(gene) for gene in read_genes(DATA / "mini.gff3")]


def test_it_reads_gzipped_files(tmp_path: Path) -> None:
    path = tmp_path / "mini.gtf.gz"
    with (DATA / "mini.gtf").open("rb") as plain, gzip.open(path, "wb") as packed:
        shutil.copyfileobj(plain, packed)
    assert read_genes(path) == read_genes(DATA / "mini.gtf")


def test_it_attaches_gff3_exons_through_their_transcript(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ensembl.gff3",
        [
            "1|ensembl|exon|200|300|.|+|.|Parent=transcript:T2",
            "1|ensembl|gene|100|500|.|+|.|ID=gene:G1;Name=My%20gene;biotype=lncRNA",
            "1|ensembl|mRNA|100|500|.|+|.|ID=transcript:T1;Parent=gene:G1",
            "1|ensembl|lnc_RNA|150|500|.|+|.|ID=transcript:T2;Parent=gene:G1",
            "1|ensembl|exon|100|250|.|+|.|Parent=transcript:T1",
            "1|ensembl|exon|400|500|.|+|.|Parent=transcript:T1,transcript:T2",
            "1|ensembl|CDS|120|240|.|+|0|Parent=transcript:T1",
        ],
    )
    (gene,) = read_genes(path)
    assert (gene.gene_id, gene.name, gene.biotype) == ("G1", "My gene", "lncRNA")
    # Exons of both transcripts merged: 100-250 with 200-300 -> 100-300, then 400-500.
    assert gene.exons == (Exon(99, 300), Exon(399, 500))


@pytest.mark.parametrize("feature", ["ncRNA_gene", "pseudogene", "transposable_element_gene"])
def test_it_reads_other_gff3_gene_types(tmp_path: Path, feature: str) -> None:
    path = write(tmp_path, "genes.gff", [f"I|SGD|{feature}|10|20|.|-|.|ID=X1"])
    (gene,) = read_genes(path)
    assert (gene.gene_id, gene.name, gene.biotype) == ("X1", "X1", feature)


def test_it_sorts_genes_by_contig_then_start(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "unsorted.gff3",
        [
            "II|SGD|gene|5|9|.|+|.|ID=C",
            "I|SGD|gene|50|90|.|+|.|ID=B",
            "I|SGD|gene|5|9|.|+|.|ID=A",
        ],
    )
    assert [gene.gene_id for gene in read_genes(path)] == ["A", "B", "C"]


def test_it_ignores_comments_and_a_trailing_fasta_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "with_fasta.gff3",
        ["##gff-version 3", "# a comment", "I|SGD|gene|5|9|.|+|.|ID=A", "##FASTA", ">I", "ACGT"],
    )
    assert [gene.gene_id for gene in read_genes(path)] == ["A"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("I|SGD|gene|5|9|.|+|ID=A", "9 tab-separated columns, found 8"),
        ("I|SGD|gene|five|9|.|+|.|ID=A", "must be integers"),
        ("I|SGD|gene|9|5|.|+|.|ID=A", "got start 9 and end 5"),
        ("I|SGD|gene|0|5|.|+|.|ID=A", "got start 0 and end 5"),
        ("I|SGD|gene|5|9|.|?|.|ID=A", "strand must be"),
    ],
)
def test_it_reports_malformed_lines_with_their_number(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(tmp_path, "bad.gff3", ["##gff-version 3", "I|SGD|gene|1|2|.|+|.|ID=OK", line])
    with pytest.raises(ValueError, match=message) as error:
        read_genes(path)
    assert "bad.gff3 line 3:" in str(error.value)


def test_it_rejects_an_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.gff3, \.gff or \.gtf"):
        read_genes(write(tmp_path, "genes.bed", ["I|5|9"]))


def test_it_reads_the_whole_yeast_annotation_quickly() -> None:
    started = time.perf_counter()
    genes = read_genes(YEAST_GFF3)
    elapsed = time.perf_counter() - started
    assert len(genes) > 6000
    assert len({gene.gene_id for gene in genes}) == len(genes)
    assert all(0 <= gene.start < gene.end for gene in genes)
    assert elapsed < 1.0
