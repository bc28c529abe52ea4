"""Genes and their exons from GFF3 or GTF files (plain or gzip-compressed).

GFF3 and GTF coordinates are 1-based and inclusive; here they become 0-based half-open on read
(``start - 1``, ``end`` unchanged), like every other coordinate in ``engine.io``.

The format is chosen by extension: ``.gff3``, ``.gff`` or ``.gtf``, optionally followed by
``.gz``. A gene's exons are its exonic regions merged across all of its transcripts, sorted by
start. A gene with no exon rows gets a single exon spanning the whole gene, because some
annotations have gene rows only (the yeast ``data/yeast/genes_R64.gff3`` does) and gene-level
scores that sum over exons should still cover such genes.
"""

from __future__ import annotations

import gzip
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TextIO
from urllib.parse import unquote

from engine.io.intervals import Interval

logger = logging.getLogger(__name__)

GFF3_GENE_TYPES = frozenset({"gene", "ncRNA_gene", "pseudogene", "transposable_element_gene"})
STRANDS = frozenset({"+", "-", "."})
# Ensembl GFF3 prefixes IDs with the feature type ("gene:ENSG..."); gene IDs are stored bare.
_GENE_ID_PREFIX = "gene:"
_BIOTYPE_KEYS = ("biotype", "gene_biotype", "gene_type")


@dataclass(frozen=True, order=True)
class Exon:
    """An exon, ``[start, end)`` in 0-based half-open contig coordinates."""

    start: int
    end: int


@dataclass(frozen=True)
class Gene:
    """A gene locus, ``[start, end)`` in 0-based half-open contig coordinates.

    ``biotype`` is the file's biotype attribute (``biotype``, ``gene_biotype`` or
    ``gene_type``); without one it is the GFF3 feature type (``gene``, ``ncRNA_gene``...) or an
    empty string for GTF. ``exons`` are merged across transcripts and sorted by start.
    """

    gene_id: str
    name: str
    chrom: str
    start: int
    end: int
    strand: str
    biotype: str
    exons: tuple[Exon, ...]

    @property
    def tss(self) -> int:
        """0-based position of the transcription start: the first base on the gene's strand."""
        return self.end - 1 if self.strand == "-" else self.start

    def start_window(self, upstream: int, downstream: int) -> Interval:
        """From ``upstream`` bp before the gene's start to ``downstream`` bp into it, on its
        strand (an unstranded gene reads as +), as a genome interval."""
        if self.strand == "-":
            return Interval(self.chrom, self.end - downstream, self.end + upstream)
        return Interval(self.chrom, self.start - upstream, self.start + downstream)


class _Row(NamedTuple):
    """One validated feature line, coordinates already 0-based half-open."""

    line_number: int
    chrom: str
    feature: str
    start: int
    end: int
    strand: str
    attributes: str


def read_genes(path: str | Path) -> list[Gene]:
    """Read every gene of a GFF3 or GTF file.

    Args:
        path: a ``.gff3``, ``.gff`` or ``.gtf`` file, optionally ending in ``.gz``.

    Returns:
        Genes sorted by (chrom, start), in 0-based half-open coordinates.

    Raises:
        ValueError: on an unknown extension, or a malformed line (the message gives its number).
    """
    path = Path(path)
    parse = _genes_from_gtf if _is_gtf(path) else _genes_from_gff3
    with _open_text(path) as handle:
        genes = parse(_read_rows(handle, path.name))
    logger.debug("read %d genes from %s", len(genes), path)
    return sorted(genes, key=lambda gene: (gene.chrom, gene.start, gene.end, gene.gene_id))


def _is_gtf(path: Path) -> bool:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in (".gff3", ".gff", ".gtf"):
        return suffixes[-1] == ".gtf"
    raise ValueError(f"{path.name}: expected a .gff3, .gff or .gtf file (optionally .gz)")


def _open_text(path: Path) -> TextIO:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _read_rows(lines: Iterable[str], source: str) -> Iterator[_Row]:
    """Validated feature rows; comments, blank lines and any trailing ##FASTA part skipped."""
    for line_number, line in enumerate(lines, start=1):
        if line.startswith("##FASTA"):
            return
        if not line.strip() or line.startswith("#"):
            continue
        yield _parse_row(line.rstrip("\r\n"), line_number, source)


def _parse_row(line: str, line_number: int, source: str) -> _Row:
    fields = line.split("\t")
    where = f"{source} line {line_number}"
    if len(fields) != 9:
        raise ValueError(f"{where}: expected 9 tab-separated columns, found {len(fields)}")
    chrom, _, feature, first, last, _, strand, _, attributes = fields
    try:
        start, end = int(first), int(last)
    except ValueError:
        raise ValueError(f"{where}: start {first!r} and end {last!r} must be integers") from None
    if start < 1 or end < start:
        raise ValueError(f"{where}: need 1 <= start <= end, got start {start} and end {end}")
    if strand not in STRANDS:
        raise ValueError(f"{where}: strand must be +, - or ., got {strand!r}")
    return _Row(line_number, chrom, feature, start - 1, end, strand, attributes)


def _gff3_attributes(text: str) -> dict[str, list[str]]:
    """``ID=a;Parent=b,c`` -> ``{"ID": ["a"], "Parent": ["b", "c"]}``, values URL-decoded."""
    attributes: dict[str, list[str]] = {}
    for pair in text.strip().split(";"):
        key, sep, value = pair.partition("=")
        if sep:
            # Split before decoding: an encoded %2C is a comma inside one value.
            attributes[key.strip()] = [unquote(part) for part in value.split(",")]
    return attributes


def _gtf_attributes(text: str) -> dict[str, str]:
    """``gene_id "a"; exon_number 1;`` -> ``{"gene_id": "a", "exon_number": "1"}``."""
    attributes: dict[str, str] = {}
    for pair in text.strip().split(";"):
        key, _, value = pair.strip().partition(" ")
        if key:
            attributes.setdefault(key, value.strip().strip('"'))
    return attributes


def _biotype(attributes: dict[str, str], default: str) -> str:
    return next((attributes[key] for key in _BIOTYPE_KEYS if key in attributes), default)


def _merge_exons(spans: Iterable[tuple[int, int]]) -> tuple[Exon, ...]:
    """Union of possibly overlapping spans from several transcripts, sorted by start."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple(Exon(start, end) for start, end in merged)


def _make_gene(
    row: _Row, gene_id: str, name: str, biotype: str, spans: list[tuple[int, int]]
) -> Gene:
    exons = _merge_exons(spans) if spans else (Exon(row.start, row.end),)
    return Gene(gene_id, name, row.chrom, row.start, row.end, row.strand, biotype, exons)


def _genes_from_gff3(rows: Iterable[_Row]) -> list[Gene]:
    """Genes from GFF3 rows; exons reach their gene through Parent links (exon -> mRNA -> gene)."""
    gene_rows: dict[str, tuple[_Row, dict[str, list[str]]]] = {}
    parents: dict[str, list[str]] = {}
    exon_spans: list[tuple[list[str], int, int]] = []
    for row in rows:
        attributes = _gff3_attributes(row.attributes)
        feature_id = attributes.get("ID", [""])[0]
        if row.feature in GFF3_GENE_TYPES and feature_id:
            gene_rows[feature_id] = (row, attributes)
        elif row.feature == "exon":
            exon_spans.append((attributes.get("Parent", []), row.start, row.end))
        elif feature_id:
            parents[feature_id] = attributes.get("Parent", [])
    spans_by_gene = _exons_by_gene(exon_spans, parents, gene_rows.keys())
    return [
        _gff3_gene(row, attributes, spans_by_gene[feature_id])
        for feature_id, (row, attributes) in gene_rows.items()
    ]


def _exons_by_gene(
    exon_spans: list[tuple[list[str], int, int]],
    parents: dict[str, list[str]],
    gene_ids: Iterable[str],
) -> defaultdict[str, set[tuple[int, int]]]:
    """Exon spans grouped by gene ID, following each exon's Parent chain up to a gene."""
    genes = set(gene_ids)
    spans: defaultdict[str, set[tuple[int, int]]] = defaultdict(set)
    for parent_ids, start, end in exon_spans:
        for gene_id in _ancestor_genes(parent_ids, parents, genes):
            spans[gene_id].add((start, end))
    return spans


def _ancestor_genes(ids: list[str], parents: dict[str, list[str]], genes: set[str]) -> set[str]:
    found: set[str] = set()
    seen: set[str] = set()
    pending = list(ids)
    while pending:  # walk up Parent links; `seen` stops a cyclic file from looping forever
        feature_id = pending.pop()
        if feature_id in genes:
            found.add(feature_id)
        elif feature_id not in seen:
            seen.add(feature_id)
            pending.extend(parents.get(feature_id, []))
    return found


def _gff3_gene(row: _Row, attributes: dict[str, list[str]], spans: set[tuple[int, int]]) -> Gene:
    raw_id = attributes["ID"][0]
    gene_id = raw_id.removeprefix(_GENE_ID_PREFIX)
    name = attributes.get("Name", [gene_id])[0]
    flat = {key: values[0] for key, values in attributes.items()}
    return _make_gene(row, gene_id, name, _biotype(flat, row.feature), sorted(spans))


def _genes_from_gtf(rows: Iterable[_Row]) -> list[Gene]:
    """Genes from GTF rows: ``gene`` rows where present, else the span of the gene's exons."""
    gene_rows: dict[str, tuple[_Row, dict[str, str]]] = {}
    exon_rows: defaultdict[str, list[tuple[_Row, dict[str, str]]]] = defaultdict(list)
    for row in rows:
        attributes = _gtf_attributes(row.attributes)
        gene_id = attributes.get("gene_id")
        if not gene_id:
            continue  # GTF requires gene_id; rows without one belong to no gene
        if row.feature == "gene":
            gene_rows[gene_id] = (row, attributes)
        elif row.feature == "exon":
            exon_rows[gene_id].append((row, attributes))
    return [
        _gtf_gene(gene_id, gene_rows.get(gene_id), exon_rows.get(gene_id, []))
        for gene_id in dict.fromkeys([*gene_rows, *exon_rows])
    ]


def _gtf_gene(
    gene_id: str,
    gene_row: tuple[_Row, dict[str, str]] | None,
    exons: list[tuple[_Row, dict[str, str]]],
) -> Gene:
    spans = [(row.start, row.end) for row, _ in exons]
    if gene_row is not None:
        row, attributes = gene_row
    else:  # no gene row: the gene spans its exons, other fields come from its first exon
        first, attributes = exons[0]
        row = first._replace(start=min(s for s, _ in spans), end=max(e for _, e in spans))
    name = attributes.get("gene_name", gene_id)
    return _make_gene(row, gene_id, name, _biotype(attributes, ""), spans)
