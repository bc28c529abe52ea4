"""Genomic intervals: the one coordinate type for all I/O (0-based, half-open)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Interval:
    """A stretch of a contig, ``[start, end)`` in 0-based half-open coordinates.

    ``Interval("I", 0, 10)`` covers the first ten bases of contig I (1-based 1..10).
    Start may be negative and end may pass the contig end: such intervals are legal and
    callers that read sequence pad the parts that fall off the contig.
    """

    chrom: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"interval end {self.end} is before its start {self.start}")

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def center(self) -> int:
        return (self.start + self.end) // 2

    def resize(self, length: int) -> Interval:
        """An interval of ``length`` bp centred on this one's centre."""
        start = self.center - length // 2
        return Interval(self.chrom, start, start + length)

    def overlaps(self, other: Interval) -> bool:
        return self.chrom == other.chrom and self.start < other.end and other.start < self.end

    def to_ucsc(self) -> str:
        """``chrom:start-end`` with a 1-based inclusive start, as genome browsers show it."""
        return f"{self.chrom}:{self.start + 1}-{self.end}"

    def readable(self) -> str:
        """``II:1,001-2,000``: a 1-based inclusive start and thousands separators, for people."""
        return f"{self.chrom}:{self.start + 1:,}-{self.end:,}"

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Parse ``chrom:start-end`` (1-based inclusive start, commas allowed)."""
        chrom, sep, span = text.strip().rpartition(":")
        first, dash, last = span.replace(",", "").partition("-")
        if not sep or not chrom or not dash or not first.isdigit() or not last.isdigit():
            raise ValueError(f"'{text}' is not a region like chrI:1,000-2,000")
        start, end = int(first) - 1, int(last)
        if start < 0 or end <= start:
            raise ValueError(f"'{text}' has an empty or negative span")
        return cls(chrom, start, end)
