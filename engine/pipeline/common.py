"""What several pipeline steps share: the progress callback, an interpretation's output, the
allele an explanation may carry and the window sequence that carries it, motif rows and files."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.interpret.motifs import MotifMatch, write_bed
from engine.io.fasta import Genome
from engine.io.intervals import Interval

Progress = Callable[[int, int], None]


@dataclass
class InterpretationOutput:
    files: list[tuple[Path, str, str]]  # (path, content type, description)
    summary: dict


@dataclass(frozen=True)
class Allele:
    """A same-length substitution (SNV or MNV) to explain instead of the reference: its
    0-based ``start``, the reference bases it replaces and its own bases."""

    start: int
    ref: str
    alt: str

    @property
    def end(self) -> int:
        return self.start + len(self.ref)


def window_sequence(
    fasta: Path, window: Interval, allele: Allele | None = None
) -> tuple[str, dict[str, int]]:
    """The window's reference sequence, with ``allele`` in place when one is given."""
    genome = Genome(fasta)
    try:
        sequence, contigs = genome.fetch(window), dict(genome.contig_lengths)
    finally:
        genome.close()
    if allele is None:
        return sequence, contigs
    first = allele.start - window.start
    if first < 0 or allele.end > window.end:
        raise InputError("The variant is not inside the model window.")
    if sequence[first : first + len(allele.ref)] != allele.ref.upper():
        raise InputError(
            f"REF {allele.ref} does not match the genome at {window.chrom}:{allele.start + 1}."
        )
    return sequence[:first] + allele.alt.upper() + sequence[first + len(allele.ref) :], contigs


def motif_rows(motifs: Sequence[MotifMatch]) -> list[dict]:
    """For the page and igv.js: 0-based half-open, as everywhere inside."""
    return [
        {
            "label": match.label,
            "start": match.start,
            "end": match.end,
            "strand": match.strand,
            "bits": round(match.score, 2),
            "relative": round(match.relative_score, 3),
        }
        for match in motifs
    ]


def motif_file(motifs: Sequence[MotifMatch], chrom: str, out_dir: Path) -> tuple:
    bed = write_bed(motifs, chrom, out_dir / "motifs.bed")
    return bed, "text/plain", "JASPAR motifs best matching the important stretches (BED6)"


def carrying(allele: Allele | None) -> str:
    return "" if allele is None else f" carrying {allele.ref}>{allele.alt} at {allele.start + 1:,}"


def write_figure(stem: Path, figure: tuple[str, bytes]) -> tuple[Path, Path]:
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    svg.write_text(figure[0])
    png.write_bytes(figure[1])
    return svg, png
