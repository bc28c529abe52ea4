"""Stage 1 of VCF validation: the raw upload bytes to checked fields, in pure Python.

Format sniffing; caps on size, inflated size, compression ratio, line length, header lines and
records; strict UTF-8; the column structure of every record and the five columns intake uses.
The small types both stages share live here too, so ``vcf`` imports this module and never the
reverse.
"""

from __future__ import annotations

import contextlib
import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from engine.io.contigs import ContigResolver
from engine.io.fasta import Genome

ProgressCallback = Callable[[int, int], None]

FIXED_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
TEXT_EXCERPT_CHARS = 120
MAX_POS = 2**31 - 1  # larger values make htslib fail with a misleading "truncated file"
_GZIP_MAGIC = b"\x1f\x8b"
_VCF_MAGIC = b"##fileformat=VCF"
_UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK_BYTES = 1 << 20
_BLOCK_BYTES = 1 << 18  # lines are checked a block at a time; progress follows each block
_RATIO_FLOOR_BYTES = 16 << 20  # small files with long runs of one base compress very well
# What a file that is not a VCF looks like, by its first bytes (after any gzip layer).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (_GZIP_MAGIC, "a file compressed twice (gzip inside gzip); decompress it once"),
    (b"BZh", "a bzip2-compressed file; upload it as plain text or compressed with bgzip"),
    (b"\xfd7zXZ\x00", "an xz-compressed file; upload it as plain text or compressed with bgzip"),
    (
        b"(\xb5/\xfd",
        "a Zstandard-compressed file; upload it as plain text or compressed with bgzip",
    ),
    (b"PK\x03\x04", "a ZIP archive; unzip it and upload the .vcf or .vcf.gz inside"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; extract it and upload the .vcf or .vcf.gz inside"),
    (b"BAM\x01", "a BAM file of aligned reads; call variants first (bcftools mpileup | call)"),
    (b"BCF\x02", "a BCF file (binary VCF); convert it with 'bcftools view -Oz -o out.vcf.gz'"),
    (b"CRAM", "a CRAM file of aligned reads; call variants first (bcftools mpileup | call)"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "a Microsoft Office document; export the sheet as tab-separated text"),
    (b"\xff\xfe", "UTF-16 text; save it as UTF-8 plain text"),
    (b"\xfe\xff", "UTF-16 text; save it as UTF-8 plain text"),
)


@dataclass(frozen=True)
class VcfLimits:
    """Resource caps for one upload; passing one refuses the whole file at once."""

    max_compressed_bytes: int = 200 * 2**20
    max_inflated_bytes: int = 4 * 2**30
    max_ratio: int = 200  # inflated/compressed, checked only once inflated > 16 MiB
    max_line_bytes: int = 2**20
    max_header_lines: int = 20_000
    max_records: int = 2_000_000


class VcfFileError(ValueError):
    """The whole file is unusable; str(e) is a message a biologist can act on."""


@dataclass(frozen=True, slots=True)
class RecordIssue:
    """A record (or one ALT allele of it) that was not accepted, and why."""

    line: int
    status: Literal["skipped", "rejected"]
    reason: str
    detail: str
    text: str


class Problem(Exception):
    """One record or allele is not accepted; raised inside the checks, caught per record."""

    def __init__(self, status: Literal["skipped", "rejected"], reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


def rejection(reason: str, detail: str) -> Problem:
    return Problem("rejected", reason, detail)


def skip(reason: str, detail: str) -> Problem:
    return Problem("skipped", reason, detail)


# --- stage 1a: size caps and format sniffing, inflating but never parsing --------------------


def check_sizes(path: Path, limits: VcfLimits, heartbeat: Callable[[], object]) -> None:
    """Inflate the file once, counting only, so a bomb is refused before any parsing."""
    size = path.stat().st_size
    if size == 0:
        raise VcfFileError("The file is empty (0 bytes).")
    if size > limits.max_compressed_bytes:
        raise VcfFileError(
            f"The file is {_size(size)}, larger than the {_size(limits.max_compressed_bytes)} "
            "limit. Compress it with bgzip or split it by chromosome."
        )
    inflated = lines = 0
    with path.open("rb") as raw, _open_inflated(raw) as stream, _gzip_errors():
        while chunk := stream.read(_CHUNK_BYTES):
            if inflated == 0:
                _sniff(chunk)
            inflated += len(chunk)
            lines += chunk.count(b"\n")
            _check_caps(limits, inflated, raw.tell(), lines)
            if inflated % (64 * _CHUNK_BYTES) == 0:
                heartbeat()
    if inflated == 0:
        raise VcfFileError("The file is empty once decompressed.")


def _check_caps(limits: VcfLimits, inflated: int, compressed: int, lines: int) -> None:
    if inflated > limits.max_inflated_bytes:
        raise VcfFileError(
            f"The file inflates to more than the {_size(limits.max_inflated_bytes)} limit on "
            "inflated size. Split it by chromosome or remove sample columns (bcftools view -G)."
        )
    if inflated > _RATIO_FLOOR_BYTES and inflated > limits.max_ratio * compressed:
        raise VcfFileError(
            f"The file exceeds the compression ratio limit ({limits.max_ratio}:1): "
            f"{_size(inflated)} came from {_size(compressed)}. A real VCF does not compress "
            "this well; this looks like a decompression bomb."
        )
    if lines > limits.max_header_lines + limits.max_records:
        raise VcfFileError(
            f"The file has more than {limits.max_header_lines + limits.max_records:,} lines; "
            f"the limit is {limits.max_records:,} records. Split it by chromosome."
        )


def _sniff(head: bytes) -> None:
    """Refuse content that is not VCF text, naming what it looks like."""
    if head.removeprefix(_UTF8_BOM).startswith(_VCF_MAGIC):
        if b"\r" in head.split(b"\n", 1)[0].rstrip(b"\r"):
            raise VcfFileError("The file uses old Mac line endings (CR only); save it with LF.")
        return
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise VcfFileError(f"This is not a VCF: it looks like {what}.")
    if b"\x00" in head[:1024] or not _is_utf8(head[:1024]):
        raise VcfFileError("This is not a VCF: it looks like binary data, not text.")
    first = head.split(b"\n", 1)[0][:80].decode("utf-8", "replace").rstrip("\r")
    raise VcfFileError(
        "This is not a VCF: the first line must start with '##fileformat=VCF', "
        f"but it is '{first}'."
    )


def _is_utf8(data: bytes) -> bool:
    # The excerpt may end inside a multi-byte character; only errors before the end count.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"
    return True


@contextlib.contextmanager
def _open_inflated(raw: IO[bytes]) -> Iterator[IO[bytes]]:
    """The file's text bytes: through gzip when it starts with the gzip magic (bgzip included)."""
    is_gzip = raw.read(2) == _GZIP_MAGIC
    raw.seek(0)
    if not is_gzip:
        yield raw
        return
    with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
        yield stream


@contextlib.contextmanager
def _gzip_errors() -> Iterator[None]:
    try:
        yield
    except EOFError as exc:
        raise VcfFileError(
            "The compressed file is truncated (it ends in the middle of the compressed data); "
            "the upload or copy may be incomplete. Upload it again."
        ) from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise VcfFileError(f"The compressed data is corrupt ({exc}). Compress it again.") from exc


# --- stage 1b: lines to checked fields ---------------------------------------------------------


# One structurally valid record: (line, text, CHROM as the genome names it, POS (1-based), ID
# ("" for "."), REF, ALT as written). A tuple, not a dataclass: a file has millions of them.
Record = tuple[int, str, str, int, str, str, str]


class RecordReader:
    """The upload's lines as ``Record`` tuples, with an issue for every record line that is not
    one (wrong columns, bad POS, unknown contig, not UTF-8, ...).

    Only the five columns intake uses are read (CHROM, POS, ID, REF, ALT); QUAL, FILTER, INFO
    and samples pass unparsed, so a malformed INFO never costs a variant. Lines go through a
    fast check for the common case (``_plain_record``); any line it does not pass takes the
    detailed checks (``_record``), which say what is wrong, so both give the same results.
    """

    def __init__(self, lengths: dict[str, int], limits: VcfLimits, resolver: ContigResolver):
        self.limits, self.resolver, self.lengths = limits, resolver, lengths
        self.columns: int | None = None
        self.header_lines = self.records = 0
        self.issues: list[RecordIssue] = []
        self.renamed: dict[str, str] = {}
        self._contigs: dict[str, str | None] = {}

    def read(
        self, path: Path, progress: ProgressCallback | None = None, total: int = 0
    ) -> Iterator[list[Record]]:
        """The records of ``path`` (plain or gzip) in file order, a block of lines at a time."""
        with path.open("rb") as raw, _open_inflated(raw) as stream, _gzip_errors():
            for first, bodies in read_blocks(stream, self.limits.max_line_bytes):
                skip_to = 0
                while self.columns is None and skip_to < len(bodies):
                    self._header_line(first + skip_to, bodies[skip_to])
                    skip_to += 1
                yield self._records(first + skip_to, bodies[skip_to:])
                if progress:
                    progress(raw.tell(), total)
        if self.columns is None:
            raise VcfFileError(
                "The file has no '#CHROM' header line. A VCF needs one naming the columns "
                f"#{' '.join(FIXED_COLUMNS)}, separated by tabs."
            )

    def _records(self, first: int, bodies: list[bytes]) -> list[Record]:
        records: list[Record] = []
        for number, body in enumerate(bodies, first):
            if not body or body.isspace():  # blank lines between records carry nothing
                continue
            self.records += 1
            record = self._plain_record(number, body) or self._record(number, body)
            if record is not None:
                records.append(record)
        if self.records > self.limits.max_records:
            raise VcfFileError(
                f"The file has more than {self.limits.max_records:,} records; split it by "
                "chromosome."
            )
        return records

    def _plain_record(self, number: int, body: bytes) -> Record | None:
        """The record of a line that is plainly fine, or None to let ``_record`` look closer:
        UTF-8, no NUL, the header's column count, a known contig, a POS of at most 9 digits,
        letters for REF and each ALT allele."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "\x00" in text or text[0] == "#" or text.count("\t") != self.columns - 1:
            return None
        chrom, pos, ident, ref, alt, _ = text.split("\t", 5)  # columns >= 8
        contig = self._contigs.get(chrom)
        if contig is None or not (pos.isascii() and pos.isdigit() and len(pos) < 10):
            return None
        if not ref.isalpha() or not (alt.isalpha() or _plain_alleles(alt)):
            return None
        return number, text, contig, int(pos), "" if ident == "." else ident, ref, alt

    def _header_line(self, number: int, body: bytes) -> None:
        self.header_lines += 1
        if self.header_lines > self.limits.max_header_lines:
            raise VcfFileError(
                f"The header has more than {self.limits.max_header_lines:,} header lines; "
                "remove unneeded '##' lines (bcftools annotate -x or a text editor)."
            )
        text = _decode_header(number, body)
        if not text.strip():
            return
        if not text.startswith("#"):
            raise VcfFileError(
                f"Line {number} is a variant record, but no '#CHROM' header line came before it."
            )
        if text.split(maxsplit=1)[0].upper() == "#CHROM":
            self.columns = _parse_chrom_line(number, text)

    def _record(self, number: int, body: bytes) -> Record | None:
        """The record of a line, or None with an issue that says what is wrong with it."""
        text = body.decode("utf-8", "replace")
        try:
            fields = _split_record(body, self.columns or len(FIXED_COLUMNS))
            chrom = self._resolve(fields[0])
        except Problem as problem:
            self.issues.append(record_issue(number, problem, text))
            return None
        ident = fields[2]
        return number, text, chrom, int(fields[1]), "" if ident == "." else ident, *fields[3:5]

    def _resolve(self, name: str) -> str:
        if name not in self._contigs:
            found = self.resolver.resolve(name)
            self._contigs[name] = found if found in self.lengths else None
        found = self._contigs[name]
        if found is None:
            known = list(self.lengths)
            listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
            raise rejection(
                "unknown contig",
                f"contig '{clip_text(name)}' is not in this genome (contigs: {listed})",
            )
        if found != name:
            self.renamed[name] = found
        return found


def line_texts(path: Path, lines: set[int], max_bytes: int) -> dict[int, str]:
    """The text of a few lines, read again from the upload rather than kept for every line."""
    if not lines:
        return {}
    with path.open("rb") as raw, _open_inflated(raw) as stream, _gzip_errors():
        return {
            number: body.decode("utf-8", "replace")
            for number, body in read_lines(stream, max_bytes)
            if number in lines
        }


def read_blocks(stream: IO[bytes], max_bytes: int) -> Iterator[tuple[int, list[bytes]]]:
    """The lines of each 256 KiB block, without their LF or CRLF ending, with the number of the
    first; never holds more than one block and one capped line."""
    number, rest = 1, b""
    while chunk := stream.read(_BLOCK_BYTES):
        has_cr = b"\r" in chunk or rest.endswith(b"\r")
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        if len(rest) > max_bytes + 1:  # + 1: a CR that may still be followed by its LF
            raise _too_long(number + len(lines), max_bytes)
        if lines:
            yield number, _bodies(number, lines, max_bytes, has_cr)
            number += len(lines)
    if rest:
        yield number, _bodies(number, [rest], max_bytes, True)


def _bodies(first: int, lines: list[bytes], max_bytes: int, has_cr: bool) -> list[bytes]:
    if has_cr:
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if max(map(len, lines)) > max_bytes:
        longest = next(i for i, line in enumerate(lines) if len(line) > max_bytes)
        raise _too_long(first + longest, max_bytes)
    if first == 1:
        lines[0] = lines[0].removeprefix(_UTF8_BOM)
    return lines


def read_lines(stream: IO[bytes], max_bytes: int) -> Iterator[tuple[int, bytes]]:
    """Numbered lines, one by one (``read_blocks``)."""
    for first, bodies in read_blocks(stream, max_bytes):
        yield from enumerate(bodies, first)


def _plain_alleles(alt: str) -> bool:
    alleles = alt.split(",")
    return all(allele.isalpha() for allele in alleles)


def _too_long(number: int, max_bytes: int) -> VcfFileError:
    return VcfFileError(
        f"Line {number} is longer than the {_size(max_bytes)} limit on line length. "
        "Remove the sample columns (bcftools view -G) or the long INFO fields."
    )


def _decode_header(number: int, body: bytes) -> str:
    # A header line may be quoted back in the job's error (the #CHROM line is), and PostgreSQL
    # text cannot hold NUL: the job could not even record why it failed.
    if b"\x00" in body:
        raise VcfFileError(
            f"Line {number} (in the header) contains a NUL byte: this is binary data, not text. "
            "Save the file as plain text."
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VcfFileError(
            f"Line {number} (in the header) is not UTF-8 text: byte 0x{body[exc.start]:02X} at "
            f"column {exc.start + 1}. Save the file as UTF-8."
        ) from exc


def _parse_chrom_line(number: int, text: str) -> int:
    """Check the ``#CHROM`` line and return its column count."""
    if "\t" not in text:
        raise VcfFileError(
            f"The #CHROM header line (line {number}) is not tab-separated: the columns must be "
            "separated by tabs, not spaces."
        )
    names = text[1:].split("\t")
    if [name.strip().upper() for name in names[: len(FIXED_COLUMNS)]] != list(FIXED_COLUMNS):
        raise VcfFileError(
            f"The #CHROM header line (line {number}) must start with the 8 fixed columns "
            f"{' '.join(FIXED_COLUMNS)}; it has {len(names)}: {clip_text(' '.join(names), 80)}"
        )
    return len(names)


def _split_record(body: bytes, columns: int) -> list[str]:
    """The record's tab-separated fields, or a ``Problem`` naming what is wrong."""
    if b"\x00" in body:
        raise rejection("NUL byte", "the line contains a NUL byte (binary data)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise rejection(
            "not UTF-8",
            f"byte 0x{body[exc.start]:02X} at column {exc.start + 1} is not UTF-8; "
            "save the file as UTF-8",
        ) from exc
    if text.startswith("#"):
        raise rejection("misplaced header line", "header lines must precede #CHROM")
    fields = text.split("\t")
    if len(fields) != columns:
        raise rejection(*_column_problem(fields, text, columns))
    _check_fixed_fields(fields)
    return fields


def _column_problem(fields: list[str], text: str, columns: int) -> tuple[str, str]:
    if len(fields) < len(FIXED_COLUMNS) and len(text.split()) >= len(FIXED_COLUMNS):
        return "not tab-separated", "the columns must be tab-separated, but spaces separate them"
    extra = fields[columns:]
    if extra and not any(extra):
        return (
            "wrong column count",
            f"the line ends with {len(extra)} extra tab(s): {len(fields)} columns, "
            f"but the #CHROM line has {columns}",
        )
    return (
        "wrong column count",
        f"{len(fields)} tab-separated columns, but the #CHROM line has {columns}",
    )


def _check_fixed_fields(fields: list[str]) -> None:
    for index in (0, 1, 3, 4):  # CHROM, POS, REF, ALT: nothing to stand in for them
        if not fields[index].strip():
            hint = " (write '.' when there is no alternate allele)" if index == 4 else ""
            raise rejection("empty column", f"{FIXED_COLUMNS[index]} is empty{hint}")
    pos = fields[1]
    if not (pos.isascii() and pos.isdigit() and len(pos) <= 10 and int(pos) <= MAX_POS):
        raise rejection(
            "bad POS",
            f"POS '{clip_text(pos)}' is not a position (a whole number from 1 to {MAX_POS:,})",
        )
    if "" in fields[4].split(","):
        raise rejection("bad ALT", f"ALT '{clip_text(fields[4])}' has an empty allele")


def header_lines(genome: Genome) -> Iterator[str]:
    yield "##fileformat=VCFv4.2\n"
    yield "##source=genomeweb\n"
    yield f"##reference={genome.path.name}\n"
    for name, length in genome.contig_lengths.items():
        yield f"##contig=<ID={name},length={length}>\n"
    yield "#" + "\t".join(FIXED_COLUMNS) + "\n"


# --- small helpers ----------------------------------------------------------------------------


def record_issue(line: int, problem: Problem, text: str) -> RecordIssue:
    # NUL cannot be stored in PostgreSQL text columns, where these issues end up.
    excerpt = text[:TEXT_EXCERPT_CHARS].replace("\x00", "\ufffd")
    return RecordIssue(line, problem.status, problem.reason, problem.detail, excerpt)


def clip_text(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value):,} characters)"


def _size(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}".replace(".0 ", " ")
    return f"{count} bytes"
