"""Parse and validate uploaded VCFs: the only place where 1-based VCF POS becomes 0-based.

Uploads are untrusted, so they go through two stages (see RELIABILITY_NOTES, "VCF parsing"):

1. a pure-Python streaming reader over the raw bytes (``engine.io.vcf_text``): format sniffing,
   caps on size, inflated size, compression ratio, line length, header lines and records;
   strict UTF-8; the column structure of every record. No user byte reaches a C parser, and no
   user string becomes a path.
2. every record is checked against the genome (contig, POS range, REF), split per ALT allele,
   each allele left-aligned and trimmed (``engine.io.alleles``), deduplicated and sorted.

htslib (pysam) writes the normalised output (bgzip + tabix) from checked fields only. An
earlier version also had htslib re-parse a cleaned copy of every record; that cost 40 % of the
time and caught nothing the reader does not, since only CHROM, POS, ID, REF and ALT are used.

A problem with the whole file raises ``VcfFileError``; a problem with one record becomes a
``RecordIssue`` and the rest of the file goes on.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import logging
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pysam

from engine.io.alleles import normalize
from engine.io.contigs import ContigResolver
from engine.io.fasta import Genome
from engine.io.files import replace_durably
from engine.io.intervals import Interval
from engine.io.vcf_text import (
    Problem,
    ProgressCallback,
    Record,
    RecordIssue,
    RecordReader,
    VcfFileError,
    VcfLimits,
    check_sizes,
    clip_text,
    header_lines,
    line_texts,
    record_issue,
    rejection,
    skip,
)

__all__ = [
    "RecordIssue",
    "Variant",
    "VcfFileError",
    "VcfLimits",
    "VcfReport",
    "validate_vcf",
    "write_issues_tsv",
    "write_normalized_vcf",
]

logger = logging.getLogger(__name__)

_BASES = "ACGTN"
# One shared uppercase string per single base: most alleles are one base, and a million
# alleles each holding its own copy of "A" would cost 50 MB.
_ONE_BASE = {base: base.upper() for base in "ACGTNacgtn"}
# Why most records of a file can fail, by the reason they most often fail for.
_HINTS = {
    "REF mismatch": "is the VCF for another genome assembly?",
    "unknown contig": "do its contig names match this genome?",
    "not tab-separated": "was it saved by an editor that turned tabs into spaces?",
    "wrong column count": "do all lines have the same columns as the #CHROM line?",
}
_DEFAULT_LIMITS = VcfLimits()
_WRITE_BATCH_LINES = 10_000  # frozen, so one shared default is safe


class Variant(NamedTuple):
    """One accepted allele, in 0-based coordinates on the genome's own contig names, left-aligned
    and trimmed; ``written`` is the allele as the upload wrote it (``CHROM:POS:REF:ALT``, 1-based)
    when that differs, else empty.

    A named tuple rather than a frozen dataclass: as immutable, and six times cheaper to make,
    which counts for the millions of alleles of a large upload."""

    chrom: str
    start: int
    ref: str
    alt: str
    ident: str
    line: int
    written: str = ""

    @property
    def end(self) -> int:
        return self.start + len(self.ref)


@dataclass
class VcfReport:
    """What validation accepted and, for everything else, why not."""

    accepted: list[Variant] = field(default_factory=list)
    issues: list[RecordIssue] = field(default_factory=list)
    records_read: int = 0
    duplicates: int = 0
    multiallelic_split: int = 0
    contigs_renamed: dict[str, str] = field(default_factory=dict)

    @property
    def realigned(self) -> int:
        """Accepted alleles that left-alignment or trimming rewrote."""
        return sum(1 for variant in self.accepted if variant.written)

    def counts(self) -> dict[str, int]:
        """Alleles per outcome: ``{"accepted": n, "skipped": n, "rejected": n}``."""
        counts = {"accepted": len(self.accepted), "skipped": 0, "rejected": 0}
        for issue in self.issues:
            counts[issue.status] += 1
        return counts

    def reasons(self) -> dict[str, int]:
        """Issue count per reason, most frequent first."""
        return dict(Counter(issue.reason for issue in self.issues).most_common())

    def warnings(self) -> list[str]:
        """Sentences for the top of a report when the file as a whole looks wrong."""
        if self.records_read == 0:
            return ["The file has a header but no variant records."]
        notes = [] if self.accepted else ["No variants were accepted; see the issues list."]
        counts = self.counts()
        rejected = [issue.reason for issue in self.issues if issue.status == "rejected"]
        if counts["rejected"] * 2 > sum(counts.values()):
            reason = Counter(rejected).most_common(1)[0][0]
            hint = _HINTS.get(reason, "see the issues list.")
            notes.append(
                f"Most alleles were rejected ({counts['rejected']:,} of {sum(counts.values()):,}),"
                f" most often for '{reason}': {hint}"
            )
        return notes


def validate_vcf(
    path: Path,
    genome: Genome,
    *,
    limits: VcfLimits = _DEFAULT_LIMITS,
    resolver: ContigResolver | None = None,
    progress: ProgressCallback | None = None,
) -> VcfReport:
    """Validate an uploaded VCF (plain, gzip or bgzip) against a genome.

    Args:
        path: the uploaded file.
        genome: the reference the variants must match.
        limits: resource caps; the defaults suit web uploads.
        resolver: contig spellings to accept; by default the genome's names and the usual
            ``chr`` aliases.
        progress: called as ``progress(bytes_read, total_bytes)`` about every 10,000 lines, as a
            job heartbeat. ``bytes_read`` is 0 while the size caps are checked (every 64 MiB
            inflated) and equals ``total_bytes`` while the genome checks run.

    Returns:
        A report whose ``accepted`` alleles are split, deduplicated and sorted by the genome's
        contig order, then start, REF and ALT.

    Raises:
        VcfFileError: the file as a whole cannot be used (format, caps, no ``#CHROM`` line).
    """
    path = Path(path)
    resolver = resolver or ContigResolver(genome.contig_lengths)
    total = path.stat().st_size
    check_sizes(path, limits, functools.partial(_heartbeat, progress, 0, total))
    reader = RecordReader(genome.contig_lengths, limits, resolver)
    checker = _GenomeChecker(genome)
    with _cyclic_gc_paused():
        for records in reader.read(path, progress, total):
            checker.check_all(records)
        _heartbeat(progress, total, total)
        report = _assemble_report(path, reader, checker, genome, limits)
    logger.info("validated %s: %s", path.name, report.counts())
    return report


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Intake makes millions of tuples and strings, none of them in a reference cycle; left on,
    the cycle collector walks them again and again (~20 % of the time in a worker's heap)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _heartbeat(progress: ProgressCallback | None, done: int, total: int) -> None:
    if progress:
        progress(done, total)


# --- stage 2: the genome checks ---------------------------------------------------------------


class _GenomeChecker:
    """Checks records against the genome and splits them into one Variant per ALT."""

    def __init__(self, genome: Genome) -> None:
        self.lengths = genome.contig_lengths
        self.reference = _ReferenceCache(genome)
        self.accepted: list[Variant] = []
        self.issues: list[RecordIssue] = []
        self.multiallelic = 0

    def check_all(self, records: list[Record]) -> None:
        """``check`` each record; a plain SNV or indel whose REF matches takes a short cut."""
        fetch, accepted, bases = self.reference.fetch, self.accepted, _ONE_BASE
        for record in records:
            line, _, chrom, pos, ident, ref, alt = record
            ref, alt = bases.get(ref) or ref.upper(), bases.get(alt) or alt.upper()
            # anything but plain bases (a multi-allelic comma, '.', '*', '<DEL>') takes check()
            if pos < 1 or ref.strip(_BASES) or alt.strip(_BASES) or alt == ref:
                self.check(record)
                continue
            end = pos - 1 + len(ref)
            if end > self.lengths[chrom] or fetch(chrom, pos - 1, end) != ref:
                self.check(record)
                continue
            if len(ref) == 1 and len(alt) == 1:  # an SNV is already normalised
                accepted.append(Variant(chrom, pos - 1, ref, alt, ident, line))
            else:
                self._accept(chrom, pos, ref, alt, ident, line)

    def check(self, record: Record) -> None:
        """Check one record's locus and REF, then each ALT allele; accept or say why not."""
        line, text, chrom, pos, ident, ref, alts = record
        ref = ref.upper()
        try:
            self._check_locus(chrom, pos, ref)
        except Problem as problem:
            self.issues.append(record_issue(line, problem, text))
            return
        alleles = alts.upper().split(",")
        if len(alleles) > 1:
            self.multiallelic += 1
        for alt in alleles:
            try:
                _check_alt(alt, ref)
            except Problem as problem:
                self.issues.append(record_issue(line, problem, text))
                continue
            self._accept(chrom, pos, ref, alt, ident, line)

    def _accept(self, chrom: str, pos: int, ref: str, alt: str, ident: str, line: int) -> None:
        # VCF POS is 1-based; everything past this line is 0-based half-open.
        start, new_ref, new_alt = normalize(pos - 1, ref, alt, self._fetcher(chrom))
        written = "" if start == pos - 1 and new_ref == ref else f"{chrom}:{pos}:{ref}:{alt}"
        self.accepted.append(Variant(chrom, start, new_ref, new_alt, ident, line, written))

    def _fetcher(self, chrom: str):
        return functools.partial(self.reference.fetch, chrom)

    def _check_locus(self, chrom: str, pos: int, ref: str) -> None:
        if pos < 1:
            raise rejection("bad POS", f"POS is {pos}; VCF positions start at 1")
        if ref.strip(_BASES):
            raise rejection("bad REF", _letters_detail("REF", ref))
        end, length = pos - 1 + len(ref), self.lengths[chrom]
        if end > length:
            raise rejection(
                "POS beyond the contig end",
                f"REF {clip_text(ref, 20)} at {_locus(chrom, pos, end)} ends past the end of "
                f"contig {chrom} ({length:,} bp)",
            )
        found = self.reference.fetch(chrom, pos - 1, end)
        if found != ref:
            raise rejection(
                "REF mismatch",
                f"REF is {clip_text(ref, 20)} but the genome has {clip_text(found, 20)} at "
                f"{_locus(chrom, pos, end)}",
            )


def _check_alt(alt: str, ref: str) -> None:
    """Raise a ``Problem`` unless ``alt`` (uppercase) is a plain sequence allele."""
    if alt == "*":
        raise skip("spanning deletion", "ALT '*' only marks a deletion elsewhere")
    if alt == ".":
        raise skip("no ALT", "ALT is '.': the record has no alternate allele")
    if alt.startswith("<") and alt.endswith(">"):
        raise skip("symbolic allele", f"ALT {clip_text(alt)} is symbolic; only sequence is scored")
    if "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith("."):
        raise skip("breakend", f"ALT {clip_text(alt)} is a breakend (structural)")
    if alt.strip(_BASES):
        raise rejection("bad ALT", _letters_detail("ALT", alt))
    if alt == ref:
        raise skip("ALT equals REF", f"ALT {clip_text(alt, 20)} is the same as REF")


class _ReferenceCache:
    """Reads the genome in 256 kb blocks, so records close together cost one FASTA read (a
    bgzip FASTA decompresses 64 kb blocks: smaller reads would inflate each several times); at
    most 64 blocks, 16 MB, are kept."""

    BLOCK = 1 << 18

    def __init__(self, genome: Genome) -> None:
        self._genome = genome
        self._block = functools.lru_cache(maxsize=64)(self._read_block)

    def fetch(self, chrom: str, start: int, end: int) -> str:
        first = start // self.BLOCK
        if (end - 1) // self.BLOCK != first:
            return self._genome.fetch(Interval(chrom, start, end))
        offset = first * self.BLOCK
        return self._block(chrom, first)[start - offset : end - offset]

    def _read_block(self, chrom: str, index: int) -> str:
        start = index * self.BLOCK
        return self._genome.fetch(Interval(chrom, start, start + self.BLOCK))


def _assemble_report(
    path: Path, reader: RecordReader, checker: _GenomeChecker, genome: Genome, limits: VcfLimits
) -> VcfReport:
    accepted, duplicates = _sort_and_dedupe(checker.accepted, genome)
    texts = line_texts(path, {v.line for v, _ in duplicates}, limits.max_line_bytes)
    duplicate_issues = [
        record_issue(variant.line, _duplicate(variant, first), texts[variant.line])
        for variant, first in duplicates
    ]
    issues = reader.issues + checker.issues + duplicate_issues
    issues.sort(key=lambda issue: issue.line)  # stable: alleles of one line keep ALT order
    return VcfReport(
        accepted=accepted,
        issues=issues,
        records_read=reader.records,
        duplicates=len(duplicates),
        multiallelic_split=checker.multiallelic,
        contigs_renamed=dict(reader.renamed),
    )


def _duplicate(variant: Variant, first: int) -> Problem:
    if variant.written:
        where = f"{variant.chrom}:{variant.start + 1}:{variant.ref}:{variant.alt}"
        return skip("duplicate", f"same variant as line {first} once left-aligned ({where})")
    return skip("duplicate", f"same variant as line {first}")


def _sort_and_dedupe(
    variants: list[Variant], genome: Genome
) -> tuple[list[Variant], list[tuple[Variant, int]]]:
    """Sorted unique variants (the genome's contig order, then start, REF, ALT), and each
    duplicate with the line of the copy that was kept: the earliest.

    Each contig's variants are sorted as plain tuples, without a key: a key per variant would
    cost 20 MB on a 260k-record file, and a sorted file is sorted again in one pass.
    """
    by_contig: dict[str, list[Variant]] = {name: [] for name in genome.contig_lengths}
    for variant in variants:
        by_contig[variant.chrom].append(variant)
    kept: list[Variant] = []
    runs: dict[int, list[Variant]] = {}  # index in kept -> the other copies of that allele
    for group in by_contig.values():
        group.sort()  # (start, REF, ALT, then ID, line, ...): equal alleles end up together
        last = None
        for variant in group:
            if last is not None and variant[1:4] == last[1:4]:
                runs.setdefault(len(kept) - 1, []).append(variant)
            else:
                kept.append(variant)
                last = variant
    duplicates: list[tuple[Variant, int]] = []
    for index, others in runs.items():
        run = [kept[index], *others]
        first = kept[index] = min(run, key=lambda variant: variant.line)
        duplicates += [(variant, first.line) for variant in run if variant is not first]
    return kept, duplicates


# --- outputs ----------------------------------------------------------------------------------


def write_normalized_vcf(report: VcfReport, genome: Genome, out_path: Path) -> Path:
    """Write the accepted variants as a bgzip VCF with a tabix index, atomically.

    Args:
        report: a report from ``validate_vcf`` (its variants are already sorted).
        genome: the genome it was validated against; its contigs make the ``##contig`` lines.
        out_path: where to write; must end with ``.vcf.gz``. The index goes to ``<out_path>.tbi``.

    Returns:
        ``out_path``.
    """
    out_path = Path(out_path)
    if not out_path.name.endswith(".vcf.gz"):
        raise ValueError(f"{out_path} must end with .vcf.gz")
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".tmp-vcf-") as workdir:
        staged = Path(workdir) / out_path.name
        write_bgzip(staged, _normalized_lines(report, genome))
        pysam.tabix_index(str(staged), preset="vcf", force=True)
        # Data before index, so the index is never older than the data it describes.
        replace_durably(staged, out_path)
        replace_durably(Path(f"{staged}.tbi"), Path(f"{out_path}.tbi"))
    return out_path


def write_issues_tsv(report: VcfReport, out_path: Path) -> Path:
    """Write every issue as tab-separated ``line, status, reason, detail, text``, atomically.

    Args:
        report: a report from ``validate_vcf``.
        out_path: where to write the TSV.

    Returns:
        ``out_path``.
    """
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".tmp-tsv-") as workdir:
        staged = Path(workdir) / out_path.name
        with staged.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["line", "status", "reason", "detail", "text"])
            for issue in report.issues:
                writer.writerow([issue.line, issue.status, issue.reason, issue.detail, issue.text])
        replace_durably(staged, out_path)
    return out_path


NORMALIZED_HEADER = (
    "##genomeweb_normalization=one record per ALT allele, left-aligned and trimmed against the "
    "reference (as bcftools norm -f), sorted, duplicates removed\n",
    '##INFO=<ID=OLD_VARIANT,Number=1,Type=String,Description="The allele as the upload wrote '
    'it (CHROM:POS:REF:ALT), where left-alignment or trimming changed it">\n',
)


def _normalized_lines(report: VcfReport, genome: Genome) -> Iterator[str]:
    for line in header_lines(genome):
        if line.startswith("#CHROM"):
            yield from NORMALIZED_HEADER
        yield line
    for v in report.accepted:
        info = f"OLD_VARIANT={v.written}" if v.written else "."
        yield f"{v.chrom}\t{v.start + 1}\t{v.ident or '.'}\t{v.ref}\t{v.alt}\t.\t.\t{info}\n"


def write_bgzip(path: Path, lines: Iterable[str]) -> None:
    """Write text lines to a BGZF file (what tabix indexes), a batch of lines per write."""
    batch: list[str] = []
    with pysam.BGZFile(str(path), "wb") as out:
        for line in lines:
            batch.append(line)
            if len(batch) == _WRITE_BATCH_LINES:  # one write per batch keeps this fast
                out.write("".join(batch).encode("utf-8"))
                batch.clear()
        out.write("".join(batch).encode("utf-8"))


# --- small helpers ----------------------------------------------------------------------------


def _letters_detail(column: str, bases: str) -> str:
    odd = "".join(sorted(set(bases) - set(_BASES)))
    letters = ", ".join(odd[:10])
    return f"{column} '{clip_text(bases, 20)}' has letters other than A, C, G, T, N: {letters}"


def _locus(chrom: str, pos: int, end: int) -> str:
    """1-based locus for messages: ``I:1,234`` or ``I:1,234-1,236``."""
    return f"{chrom}:{pos:,}" if end <= pos else f"{chrom}:{pos:,}-{end:,}"
