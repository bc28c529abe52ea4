"""Parse and validate uploaded VCFs: the only place where 1-based VCF POS becomes 0-based.

Uploads are untrusted, so they go through three stages (see RELIABILITY_NOTES, "VCF parsing"):

1. a pure-Python streaming pre-pass over the raw bytes: format sniffing, caps on size, inflated
   size, compression ratio, line length, header lines and records; strict UTF-8; the column
   structure of every record. It writes a cleaned copy that we own, with our own header.
2. htslib (pysam) parses the cleaned copy, never the user's file or strings from it as paths.
3. every record is checked against the genome (contig, POS range, REF), split per ALT allele,
   each allele left-aligned and trimmed (``engine.io.alleles``), deduplicated and sorted.

A problem with the whole file raises ``VcfFileError``; a problem with one record becomes a
``RecordIssue`` and the rest of the file goes on.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import logging
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pysam

from engine.io.alleles import normalize
from engine.io.contigs import ContigResolver
from engine.io.fasta import Genome
from engine.io.files import replace_durably
from engine.io.intervals import Interval
from engine.io.vcf_prepass import (
    PROGRESS_EVERY,
    PrePass,
    Problem,
    ProgressCallback,
    RecordIssue,
    VcfFileError,
    VcfLimits,
    check_sizes,
    clip_text,
    header_lines,
    record_issue,
    rejection,
    run_prepass,
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
# Why most records of a file can fail, by the reason they most often fail for.
_HINTS = {
    "REF mismatch": "is the VCF for another genome assembly?",
    "unknown contig": "do its contig names match this genome?",
    "not tab-separated": "was it saved by an editor that turned tabs into spaces?",
    "wrong column count": "do all lines have the same columns as the #CHROM line?",
}
_DEFAULT_LIMITS = VcfLimits()  # frozen, so one shared default is safe


@dataclass(frozen=True, slots=True)
class Variant:
    """One accepted allele, in 0-based coordinates on the genome's own contig names, left-aligned
    and trimmed; ``written`` is the allele as the upload wrote it (``CHROM:POS:REF:ALT``, 1-based)
    when that differs, else empty."""

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
    with tempfile.TemporaryDirectory(prefix="genomeweb-vcf-") as workdir:
        with PrePass(genome, limits, resolver, Path(workdir)) as prepass:
            run_prepass(path, prepass, progress, total)
        checker = _GenomeChecker(genome)
        _check_with_htslib(prepass, checker, functools.partial(_heartbeat, progress, total, total))
        report = _assemble_report(prepass, checker, genome)
    logger.info("validated %s: %s", path.name, report.counts())
    return report


def _heartbeat(progress: ProgressCallback | None, done: int, total: int) -> None:
    if progress:
        progress(done, total)


# --- stage 2 and 3: htslib parse of the cleaned copy, then the genome checks -----------------


def _check_with_htslib(
    prepass: PrePass, checker: _GenomeChecker, heartbeat: Callable[[], object]
) -> None:
    """Feed htslib's records to the checker, one per sidecar line, in order."""
    with _quiet_htslib(), _open_htslib(prepass.clean_path) as vcf:
        records = iter(vcf)
        for count, (number, text) in enumerate(_sidecar_entries(prepass.sidecar_path), 1):
            try:
                # htslib goes on with the next line after refusing one, as pysam 0.24 does.
                record = next(records, None)
            except (OSError, ValueError) as exc:
                detail = f"htslib could not parse this record ({exc})"
                unreadable = rejection("unreadable record", detail)
                checker.issues.append(record_issue(number, unreadable, text))
                continue
            if record is None:
                detail = "htslib stopped before this record"
                unreadable = rejection("unreadable record", detail)
                checker.issues.append(record_issue(number, unreadable, text))
                continue
            checker.check(record, number, text)
            if count % PROGRESS_EVERY == 0:
                heartbeat()


def _sidecar_entries(path: Path) -> Iterator[tuple[int, str]]:
    # newline="\n": a stray CR inside a line must not split it, as universal newlines would.
    with path.open(encoding="utf-8", newline="\n") as sidecar:
        for entry in sidecar:
            number, _, text = entry.rstrip("\n").partition("\t")
            yield int(number), text


@contextlib.contextmanager
def _open_htslib(path: Path) -> Iterator[pysam.VariantFile]:
    try:
        vcf = pysam.VariantFile(str(path), "r")
    except (OSError, ValueError) as exc:
        raise VcfFileError(f"htslib could not read the file ({exc}).") from exc
    with vcf:
        yield vcf


@contextlib.contextmanager
def _quiet_htslib() -> Iterator[None]:
    # Undeclared INFO/FILTER keys are normal in uploads; htslib would warn on stderr for each.
    previous = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(previous)


class _GenomeChecker:
    """Checks htslib records against the genome and splits them into one Variant per ALT."""

    def __init__(self, genome: Genome) -> None:
        self.lengths = genome.contig_lengths
        self.reference = _ReferenceCache(genome)
        self.accepted: list[Variant] = []
        self.issues: list[RecordIssue] = []
        self.multiallelic = 0

    def check(self, record: pysam.VariantRecord, line: int, text: str) -> None:
        chrom, pos, ref = record.chrom, record.pos, (record.ref or "").upper()
        try:
            self._check_locus(chrom, pos, ref)
        except Problem as problem:
            self.issues.append(record_issue(line, problem, text))
            return
        alts = [alt.upper() for alt in record.alts or (".",)]
        if len(alts) > 1:
            self.multiallelic += 1
        ident = record.id or ""
        for alt in alts:
            try:
                _check_alt(alt, ref)
            except Problem as problem:
                self.issues.append(record_issue(line, problem, text))
                continue
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
    """Reads the genome in 16 kb blocks, so records close together cost one FASTA read."""

    BLOCK = 1 << 14

    def __init__(self, genome: Genome) -> None:
        self._genome = genome
        self._block = functools.lru_cache(maxsize=256)(self._read_block)

    def fetch(self, chrom: str, start: int, end: int) -> str:
        first = start // self.BLOCK
        if (end - 1) // self.BLOCK != first:
            return self._genome.fetch(Interval(chrom, start, end))
        offset = first * self.BLOCK
        return self._block(chrom, first)[start - offset : end - offset]

    def _read_block(self, chrom: str, index: int) -> str:
        start = index * self.BLOCK
        return self._genome.fetch(Interval(chrom, start, start + self.BLOCK))


def _assemble_report(prepass: PrePass, checker: _GenomeChecker, genome: Genome) -> VcfReport:
    accepted, duplicates = _sort_and_dedupe(checker.accepted, genome)
    texts = _sidecar_texts(prepass.sidecar_path, {variant.line for variant, _ in duplicates})
    duplicate_issues = [
        record_issue(variant.line, _duplicate(variant, first), texts[variant.line])
        for variant, first in duplicates
    ]
    issues = prepass.issues + checker.issues + duplicate_issues
    issues.sort(key=lambda issue: issue.line)  # stable: alleles of one line keep ALT order
    return VcfReport(
        accepted=accepted,
        issues=issues,
        records_read=prepass.records,
        duplicates=len(duplicates),
        multiallelic_split=checker.multiallelic,
        contigs_renamed=dict(prepass.renamed),
    )


def _duplicate(variant: Variant, first: int) -> Problem:
    if variant.written:
        where = f"{variant.chrom}:{variant.start + 1}:{variant.ref}:{variant.alt}"
        return skip("duplicate", f"same variant as line {first} once left-aligned ({where})")
    return skip("duplicate", f"same variant as line {first}")


def _sort_and_dedupe(
    variants: list[Variant], genome: Genome
) -> tuple[list[Variant], list[tuple[Variant, int]]]:
    """Sorted unique variants, and each duplicate with the line of the copy that was kept."""
    order = {name: index for index, name in enumerate(genome.contig_lengths)}
    # Stable sort: among equal variants the earliest line comes first and is the one kept.
    variants = sorted(variants, key=lambda v: (order[v.chrom], v.start, v.ref, v.alt))
    kept: list[Variant] = []
    duplicates: list[tuple[Variant, int]] = []
    for variant in variants:
        if kept and _identity(kept[-1]) == _identity(variant):
            duplicates.append((variant, kept[-1].line))
        else:
            kept.append(variant)
    return kept, duplicates


def _identity(variant: Variant) -> tuple[str, int, str, str]:
    return variant.chrom, variant.start, variant.ref, variant.alt


def _sidecar_texts(path: Path, lines: set[int]) -> dict[int, str]:
    if not lines:
        return {}
    return {number: text for number, text in _sidecar_entries(path) if number in lines}


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
            if len(batch) == PROGRESS_EVERY:  # one write per batch keeps this fast
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
