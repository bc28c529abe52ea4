"""What a person types into a variant search box, and what kind of query it is.

Pure Python (no Django, no database): ``parse_search`` only reads the text. Contig names are
kept as typed; the caller resolves them against a genome's aliases (``Genome.contig_resolver``),
so "chrII" and "II" find the same variants. Positions are typed 1-based, as VCF and genome
browsers show them, and kept 0-based half-open in an ``Interval`` like every coordinate inside.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from engine.io.intervals import Interval


class SearchKind(StrEnum):
    EMPTY = "empty"
    ALLELE = "allele"  # "II:278392 T>C", "chrII:g.278392T>C", "II-278392-T-C", a VCF line
    POSITION = "position"  # "II:278,392": every allele starting there
    REGION = "region"  # "II:270,000-290,000", "chrII:g.270000_290000"
    RSID = "rsid"  # "rs1234": a dbSNP identifier, looked up among variant IDs
    NAME = "name"  # anything else: a variant ID, a gene name or ID, or a contig name
    # Never returned by parse_search: a NAME that a genome knows as a contig ("chrII"), once
    # resolved against it (genomeweb.variants.lookup.resolve); its interval is the whole contig.
    CONTIG = "contig"


@dataclass(frozen=True)
class SearchQuery:
    kind: SearchKind
    text: str  # as typed, without surrounding blanks
    # ALLELE: its REF's bases; POSITION: 1 bp; REGION; CONTIG: all of it
    interval: Interval | None = None
    ref: str = ""
    alt: str = ""

    def on_contig(self, chrom: str) -> "SearchQuery":
        """The same query on ``chrom``, the genome's own spelling of the typed contig."""
        if self.interval is None:
            return self
        interval = Interval(chrom, self.interval.start, self.interval.end)
        return SearchQuery(self.kind, self.text, interval, self.ref, self.alt)

    def describe(self) -> str:
        """The query as people read it: "II:278,392 T>C", "II:270,000-290,000", "'GAL10'"."""
        if self.interval is None:
            return f"'{self.text}'"
        chrom, start = self.interval.chrom, self.interval.start
        if self.kind == SearchKind.CONTIG:
            return f"contig {chrom}"
        if self.kind == SearchKind.ALLELE:
            return f"{chrom}:{start + 1:,} {self.ref}>{self.alt}"
        if self.kind == SearchKind.POSITION:
            return f"{chrom}:{start + 1:,}"
        return self.interval.readable()


_CONTIG = r"(?P<chrom>[^\s:]+)"
_NUMBER = r"\d[\d,]*"
_BASES = r"[ACGTN]+"
# After the contig: an optional HGVS "g.", then the position.
_AT = rf"{_CONTIG}:(?:g\.)?\s*(?P<pos>{_NUMBER})"
_ALLELE_PATTERNS = (
    # II:278392 T>C · chrII:278,392:T:C · chrII:g.278392T>C · II:278392 T/C
    re.compile(rf"{_AT}\s*[\s:]?\s*(?P<ref>{_BASES})\s*[>/:]\s*(?P<alt>{_BASES})", re.I),
    # II-278392-T-C (as gnomAD writes variants)
    re.compile(rf"(?P<chrom>[^\s:-]+)-(?P<pos>\d+)-(?P<ref>{_BASES})-(?P<alt>{_BASES})", re.I),
    # II 278392 T C, or the first columns of a VCF line: II 278392 GAL10_up40 T C
    re.compile(
        rf"(?P<chrom>\S+)\s+(?P<pos>{_NUMBER})(?:\s+\S+)?\s+(?P<ref>{_BASES})\s+(?P<alt>{_BASES})",
        re.I,
    ),
)
_REGION = re.compile(rf"{_AT}\s*(?:-|–|_|\.\.)\s*(?P<end>{_NUMBER})", re.I)
_POSITION = re.compile(_AT, re.I)
_RSID = re.compile(r"rs\d+", re.I)


def parse_search(text: str) -> SearchQuery:
    """What ``text`` asks for; the first pattern that matches the whole text decides.

    Returns:
        A SearchQuery; NAME when the text looks like no coordinate or rsID.

    Raises:
        ValueError: coordinates that cannot be meant (position 0, a region that ends before it
            starts), with a message for the person who typed them.
    """
    text = " ".join(text.split())
    if not text:
        return SearchQuery(SearchKind.EMPTY, "")
    for pattern in _ALLELE_PATTERNS:
        if match := pattern.fullmatch(text):
            return _allele(text, match)
    if match := _REGION.fullmatch(text):
        return _region(text, match)
    if match := _POSITION.fullmatch(text):
        start = _position(text, match["pos"])
        return SearchQuery(SearchKind.POSITION, text, Interval(match["chrom"], start, start + 1))
    if _RSID.fullmatch(text):
        return SearchQuery(SearchKind.RSID, text)
    return SearchQuery(SearchKind.NAME, text)


def _allele(text: str, match: re.Match) -> SearchQuery:
    ref, alt = match["ref"].upper(), match["alt"].upper()
    start = _position(text, match["pos"])
    interval = Interval(match["chrom"], start, start + len(ref))
    return SearchQuery(SearchKind.ALLELE, text, interval, ref, alt)


def _region(text: str, match: re.Match) -> SearchQuery:
    start, end = _position(text, match["pos"]), int(match["end"].replace(",", ""))
    if end <= start:
        raise ValueError(f"'{text}' ends before it starts: write the smaller position first")
    return SearchQuery(SearchKind.REGION, text, Interval(match["chrom"], start, end))


def _position(text: str, number: str) -> int:
    """The 0-based start of a typed 1-based position."""
    position = int(number.replace(",", ""))
    if position < 1:
        raise ValueError(f"'{text}': positions count from 1")
    return position - 1
