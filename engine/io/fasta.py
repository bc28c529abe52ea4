"""Reference sequence access (pyfaidx): plain or bgzip FASTA, with explicit padding."""

from __future__ import annotations

from pathlib import Path

import pyfaidx

from engine.io.intervals import Interval

PAD_BASE = "N"


class Genome:
    """A reference genome read through its ``.fai`` (and ``.gzi`` when bgzip-compressed).

    Sequence is returned uppercase. Parts of an interval that fall off a contig are padded with
    ``pad`` rather than clipped, so a window near a contig end keeps its length.
    """

    def __init__(self, fasta_path: str | Path) -> None:
        self.path = Path(fasta_path)
        # rebuild=False: never rewrite an index next to a shared, possibly read-only FASTA.
        self._fasta = pyfaidx.Fasta(str(self.path), rebuild=False, sequence_always_upper=True)
        self.contig_lengths: dict[str, int] = {
            name: len(record) for name, record in self._fasta.records.items()
        }

    def fetch(self, interval: Interval, *, pad: str = PAD_BASE) -> str:
        """Sequence of ``interval``; raises KeyError for an unknown contig.

        Returns:
            A string of exactly ``len(interval)`` characters.
        """
        length = self.contig_lengths[interval.chrom]
        start, end = max(interval.start, 0), min(interval.end, length)
        core = self._fasta[interval.chrom][start:end].seq if end > start else ""
        left = min(max(0, -interval.start), len(interval))
        right = len(interval) - left - len(core)
        return pad * left + core + pad * right

    def close(self) -> None:
        self._fasta.close()
