"""A corpus of malformed VCFs, generated from one valid VCF on tests/data/mini.fa.

Each case states its outcome: a VcfFileError whose message contains a phrase, or a report with
an exact accepted count and exactly the stated issue reason (at the stated line, with the stated
words in its detail). The valid base has 7 records; ``BAD_LINE`` is where ``with_line`` puts an
extra, broken one.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pysam
import pytest

from engine.io import vcf
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import VcfFileError, VcfLimits, validate_vcf
from engine.io.vcf_text import RecordReader

DATA = Path(__file__).resolve().parents[2] / "data"
HEADER = [
    "##fileformat=VCFv4.2",
    "##source=corpus",
    "##contig=<ID=I,length=6000>",
    "##contig=<ID=II,length=4000>",
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tsample1",
]
BASE_ACCEPTED = 7
BAD_LINE = len(HEADER) + 4  # with_line() puts the extra line after the third record


@dataclass
class Corpus:
    """Builds VCF bytes whose REF bases come from the real FASTA."""

    genome: Genome
    workdir: Path

    def ref(self, chrom: str, pos: int, length: int = 1) -> str:
        return self.genome.fetch(Interval(chrom, pos - 1, pos - 1 + length))

    def alt(self, chrom: str, pos: int) -> str:
        return "T" if self.ref(chrom, pos) != "T" else "C"

    def record(self, chrom: str, pos: object, ref: str, alt: str, info: str = "DP=10") -> str:
        return f"{chrom}\t{pos}\trs{pos}\t{ref}\t{alt}\t50\tPASS\t{info}\tGT\t0/1"

    def snv(self, chrom: str, pos: int, **kwargs: str) -> str:
        return self.record(chrom, pos, self.ref(chrom, pos), self.alt(chrom, pos), **kwargs)

    def records(self) -> list[str]:
        deletion, insertion = self.ref("I", 300, 3), self.ref("I", 400)
        return [
            self.snv("I", 100),
            self.snv("I", 200),
            self.record("I", 300, deletion, deletion[0]),
            self.record("I", 400, insertion, insertion + "AC"),
            self.snv("I", 5000),
            self.snv("II", 50),
            self.snv("II", 3999),
        ]

    def text(self, records: list[str] | None = None, header: list[str] | None = None) -> str:
        lines = (HEADER if header is None else header) + (
            self.records() if records is None else records
        )
        return "".join(line + "\n" for line in lines)

    def vcf(self, records: list[str] | None = None, header: list[str] | None = None) -> bytes:
        return self.text(records, header).encode()

    def with_line(self, line: str | bytes) -> bytes:
        """The base VCF with one extra line at ``BAD_LINE``."""
        records = [record.encode() for record in self.records()]
        extra = line if isinstance(line, bytes) else line.encode()
        lines = [h.encode() for h in HEADER] + records[:3] + [extra] + records[3:]
        return b"".join(line + b"\n" for line in lines)

    def bgzip(self, data: bytes) -> bytes:
        plain, packed = self.workdir / "bgzip.vcf", self.workdir / "bgzip.vcf.gz"
        plain.write_bytes(data)
        pysam.tabix_compress(str(plain), str(packed), force=True)
        return packed.read_bytes()

    def bomb(self, mebibytes: int) -> bytes:
        """A valid-looking gzip VCF that inflates to ``mebibytes`` MiB of records.

        A gzip file may hold many members; one compressed MiB of records, repeated, makes the
        bomb in milliseconds without deflating a GiB.
        """
        line = (self.snv("I", 100) + "\n").encode()
        member = gzip.compress(line * (2**20 // len(line)))
        return gzip.compress(self.vcf(records=[])) + member * mebibytes


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Corpus], bytes]
    error: str | None = None  # VcfFileError message contains this
    accepted: int | None = None  # or: the report accepts exactly this many alleles
    reason: str | None = None  # ... and the issues have exactly this reason (None: no issues)
    line: int | None = None  # ... all at this line
    detail: str | None = None  # ... and their detail contains this
    limits: VcfLimits = VcfLimits()


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("variants.vcf", data)
    return buffer.getvalue()


def _corrupt_crc(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data))
    packed[-8:-4] = bytes(4)  # the CRC32 of the inflated data, now wrong
    return bytes(packed)


def _flood_of_lines(c: Corpus) -> bytes:
    return c.vcf() + b"\n" * 5_000


FILE_ERRORS = [
    Case("gzip_bomb_1GiB", lambda c: c.bomb(1024), error="compression ratio limit"),
    Case(
        "inflated_size_cap",
        lambda c: c.bomb(8),
        error="limit on inflated size",
        limits=VcfLimits(max_inflated_bytes=4 * 2**20),
    ),
    Case(
        "compressed_size_cap",
        lambda c: c.vcf(),
        error="larger than the 256 bytes limit",
        limits=VcfLimits(max_compressed_bytes=256),
    ),
    Case(
        "huge_line",
        lambda c: c.with_line(c.snv("I", 150, info="X=" + "A" * 2**21)),
        error=f"Line {BAD_LINE} is longer than the 1 MiB limit",
    ),
    Case(
        "too_many_header_lines",
        lambda c: c.vcf(header=HEADER[:1] + ["##x=y"] * 20_000 + HEADER[1:]),
        error="more than 20,000 header lines",
    ),
    Case(
        "too_many_records",
        lambda c: c.vcf(),
        error="more than 5 records",
        limits=VcfLimits(max_records=5),
    ),
    Case(
        "flood_of_blank_lines",
        _flood_of_lines,
        error="more than 1,010 lines",
        limits=VcfLimits(max_header_lines=10, max_records=1_000),
    ),
    Case(
        "non_utf8_header",
        lambda c: c.vcf().replace(b"##source=corpus", b"##source=caf\xe9"),
        error="Line 2 (in the header) is not UTF-8 text: byte 0xE9 at column 13",
    ),
    Case(
        "missing_chrom_line",
        lambda c: c.vcf(header=HEADER[:-1]),
        error="Line 6 is a variant record, but no '#CHROM' header line came before it",
    ),
    Case(
        "missing_chrom_line_header_only",
        lambda c: c.vcf(records=[], header=HEADER[:-1]),
        error="no '#CHROM' header line",
    ),
    Case("missing_fileformat", lambda c: c.vcf(header=HEADER[1:]), error="'##fileformat=VCF'"),
    Case("fasta_uploaded", lambda c: (DATA / "mini.fa").read_bytes(), error="it is '>I'"),
    Case("truncated_gzip", lambda c: gzip.compress(c.vcf())[:200], error="truncated"),
    Case("gzip_bad_crc", lambda c: _corrupt_crc(c.vcf()), error="corrupt"),
    Case("gzip_twice", lambda c: gzip.compress(gzip.compress(c.vcf())), error="compressed twice"),
    Case("bzip2", lambda c: bz2.compress(c.vcf()), error="bzip2"),
    Case("xz", lambda c: lzma.compress(c.vcf()), error="xz-compressed"),
    Case("zip", lambda c: _zip(c.vcf()), error="ZIP archive"),
    Case("bam", lambda c: gzip.compress(b"BAM\x01" + bytes(200)), error="BAM file"),
    Case("bcf", lambda c: gzip.compress(b"BCF\x02\x02" + bytes(200)), error="BCF file"),
    Case("binary_junk", lambda c: b"\x00\x01" + random.Random(7).randbytes(4096), error="binary"),
    Case("utf16", lambda c: c.text().encode("utf-16"), error="UTF-16"),
    Case("empty_file", lambda c: b"", error="empty (0 bytes)"),
    Case("empty_gzip", lambda c: gzip.compress(b""), error="empty once decompressed"),
    Case("cr_only_line_endings", lambda c: c.vcf().replace(b"\n", b"\r"), error="CR only"),
    Case(
        "chrom_line_with_5_columns",
        lambda c: c.vcf(
            header=HEADER[:-1] + ["#CHROM\tPOS\tID\tREF\tALT"],
            records=[r.rsplit("\t", 5)[0] for r in c.records()],
        ),
        error="must start with the 8 fixed columns",
    ),
    Case(
        "chrom_line_with_spaces",
        lambda c: c.vcf(header=HEADER[:-1] + [HEADER[-1].replace("\t", " ")]),
        error="is not tab-separated",
    ),
]

RECORD_OUTCOMES = [
    Case(
        "ref_mismatch",
        lambda c: c.with_line(c.record("I", 150, "G" if c.ref("I", 150) != "G" else "C", "A")),
        accepted=BASE_ACCEPTED,
        reason="REF mismatch",
        line=BAD_LINE,
        detail="but the genome has",
    ),
    Case(
        "chr_prefix_alias",
        lambda c: c.vcf(records=["chr" + r for r in c.records()]),
        accepted=BASE_ACCEPTED,
    ),
    Case(
        "unknown_contig_chr99",
        lambda c: c.with_line("chr99\t5\t.\tA\tG\t.\t.\t.\tGT\t0/1"),
        accepted=BASE_ACCEPTED,
        reason="unknown contig",
        line=BAD_LINE,
        detail="contig 'chr99' is not in this genome (contigs: I, II)",
    ),
    Case(
        "unknown_contig_typo",
        lambda c: c.with_line(c.snv("I", 150).replace("I", "Chr_I_typo", 1)),
        accepted=BASE_ACCEPTED,
        reason="unknown contig",
        line=BAD_LINE,
        detail="'Chr_I_typo'",
    ),
    Case(
        "pos_beyond_contig",
        lambda c: c.with_line(c.record("II", 4001, "A", "G")),
        accepted=BASE_ACCEPTED,
        reason="POS beyond the contig end",
        line=BAD_LINE,
        detail="contig II (4,000 bp)",
    ),
    Case(
        "ref_runs_past_contig_end",
        lambda c: c.with_line(c.record("I", 5999, "AAA", "A")),
        accepted=BASE_ACCEPTED,
        reason="POS beyond the contig end",
        line=BAD_LINE,
        detail="I:5,999-6,001",
    ),
    Case(
        "pos_zero",
        lambda c: c.with_line(c.record("I", 0, "A", "G")),
        accepted=BASE_ACCEPTED,
        reason="bad POS",
        line=BAD_LINE,
        detail="POS is 0",
    ),
    Case(
        "pos_negative",
        lambda c: c.with_line(c.record("I", -5, "A", "G")),
        accepted=BASE_ACCEPTED,
        reason="bad POS",
        line=BAD_LINE,
        detail="POS '-5'",
    ),
    Case(
        "pos_not_integer",
        lambda c: c.with_line(c.record("I", "1.5e3", "A", "G")),
        accepted=BASE_ACCEPTED,
        reason="bad POS",
        line=BAD_LINE,
        detail="POS '1.5e3'",
    ),
    Case(
        "pos_overflows_htslib",
        lambda c: c.with_line(c.record("I", 9223372036854775806, "A", "G")),
        accepted=BASE_ACCEPTED,
        reason="bad POS",
        line=BAD_LINE,
    ),
    Case(
        "spaces_instead_of_tabs",
        lambda c: c.with_line(c.snv("I", 150).replace("\t", " ")),
        accepted=BASE_ACCEPTED,
        reason="not tab-separated",
        line=BAD_LINE,
        detail="must be tab-separated",
    ),
    Case(
        "missing_column",
        lambda c: c.with_line(c.snv("I", 150).rsplit("\t", 1)[0]),
        accepted=BASE_ACCEPTED,
        reason="wrong column count",
        line=BAD_LINE,
        detail="9 tab-separated columns, but the #CHROM line has 10",
    ),
    Case(
        "extra_column",
        lambda c: c.with_line(c.snv("I", 150) + "\t0/0"),
        accepted=BASE_ACCEPTED,
        reason="wrong column count",
        line=BAD_LINE,
        detail="11 tab-separated columns",
    ),
    Case(
        "trailing_tabs",
        lambda c: c.with_line(c.snv("I", 150) + "\t\t"),
        accepted=BASE_ACCEPTED,
        reason="wrong column count",
        line=BAD_LINE,
        detail="ends with 2 extra tab(s)",
    ),
    Case(
        "crlf_line_endings",
        lambda c: c.vcf().replace(b"\n", b"\r\n"),
        accepted=BASE_ACCEPTED,
    ),
    Case(
        "non_utf8_record",
        lambda c: c.with_line(c.snv("I", 150, info="NOTE=caf").encode() + b"\xe9"),
        accepted=BASE_ACCEPTED,
        reason="not UTF-8",
        line=BAD_LINE,
        detail="byte 0xE9",
    ),
    Case(
        "nul_byte",
        lambda c: c.with_line(c.snv("I", 150).replace("DP=10", "DP=1\x000")),
        accepted=BASE_ACCEPTED,
        reason="NUL byte",
        line=BAD_LINE,
    ),
    Case(
        "symbolic_alleles",
        lambda c: c.vcf(
            records=[c.record("I", 150, c.ref("I", 150), alt) for alt in ("<DEL>", "<*>")]
            + [c.record("I", 160, c.ref("I", 160), "<NON_REF>")]
        ),
        accepted=0,
        reason="symbolic allele",
    ),
    Case(
        "breakends",
        lambda c: c.vcf(
            records=[
                c.record("I", 150, c.ref("I", 150), alt.replace("G", c.ref("I", 150)))
                for alt in ("G]II:100]", "]II:100]G", "G[II:100[", "[II:100[G", ".G", "G.")
            ]
        ),
        accepted=0,
        reason="breakend",
    ),
    Case(
        "spanning_deletion_star",
        lambda c: c.with_line(c.record("I", 150, c.ref("I", 150), "*")),
        accepted=BASE_ACCEPTED,
        reason="spanning deletion",
        line=BAD_LINE,
    ),
    Case(
        "empty_alt_column",
        lambda c: c.with_line(c.record("I", 150, c.ref("I", 150), "")),
        accepted=BASE_ACCEPTED,
        reason="empty column",
        line=BAD_LINE,
        detail="ALT is empty",
    ),
    Case(
        "empty_ref_column",
        lambda c: c.with_line(c.record("I", 150, "", "A")),
        accepted=BASE_ACCEPTED,
        reason="empty column",
        line=BAD_LINE,
        detail="REF is empty",
    ),
    Case(
        "no_alt_dot",
        lambda c: c.with_line(c.record("I", 150, c.ref("I", 150), ".")),
        accepted=BASE_ACCEPTED,
        reason="no ALT",
        line=BAD_LINE,
    ),
    Case(
        "empty_allele_in_list",
        lambda c: c.with_line(c.record("I", 150, c.ref("I", 150), "A,,T")),
        accepted=BASE_ACCEPTED,
        reason="bad ALT",
        line=BAD_LINE,
        detail="has an empty allele",
    ),
    Case(
        "lowercase_ref_and_alt",
        lambda c: c.vcf(records=[_lowercase_alleles(r) for r in c.records()]),
        accepted=BASE_ACCEPTED,
    ),
    Case(
        "iupac_ref",
        lambda c: c.with_line(c.record("I", 150, "R", "A")),
        accepted=BASE_ACCEPTED,
        reason="bad REF",
        line=BAD_LINE,
        detail="other than A, C, G, T, N: R",
    ),
    Case(
        "dot_ref",
        lambda c: c.with_line(c.record("I", 150, ".", "A")),
        accepted=BASE_ACCEPTED,
        reason="bad REF",
        line=BAD_LINE,
    ),
    Case(
        "iupac_alt",
        lambda c: c.with_line(c.record("I", 150, c.ref("I", 150), "Y")),
        accepted=BASE_ACCEPTED,
        reason="bad ALT",
        line=BAD_LINE,
        detail="ALT 'Y'",
    ),
    Case(
        "alt_equals_ref",
        lambda c: c.with_line(c.record("I", 150, c.ref("I", 150), c.ref("I", 150).lower())),
        accepted=BASE_ACCEPTED,
        reason="ALT equals REF",
        line=BAD_LINE,
    ),
    Case("header_only", lambda c: c.vcf(records=[]), accepted=0),
    Case(
        "duplicate_records",
        lambda c: c.vcf(records=c.records() + c.records()[:2]),
        accepted=BASE_ACCEPTED,
        reason="duplicate",
        detail="same variant as line",
    ),
    Case(
        "unsorted_records",
        lambda c: c.vcf(records=c.records()[::-1]),
        accepted=BASE_ACCEPTED,
    ),
    Case(
        "multiallelic",
        lambda c: c.with_line(c.record("I", 150, c.ref("I", 150), "N," + c.alt("I", 150))),
        accepted=BASE_ACCEPTED + 2,
    ),
    Case(
        "very_long_ref_and_alt",
        lambda c: c.vcf(
            records=c.records()
            + [
                c.record("I", 1000, c.ref("I", 1000, 3000), c.ref("I", 1000)),
                c.record("II", 2000, c.ref("II", 2000), c.ref("II", 2000) + "ACGT" * 2500),
            ]
        ),
        accepted=BASE_ACCEPTED + 2,
    ),
    Case(
        "info_qual_filter_garbage",
        lambda c: c.with_line(
            c.snv("I", 150, info="DP=abc;;;=;x=1=2;DP=,,")
            .replace("\t50\t", "\tnot-a-number\t")
            .replace("PASS", "q10;;;")
        ),
        accepted=BASE_ACCEPTED + 1,
    ),
    Case("bgzip_input", lambda c: c.bgzip(c.vcf()), accepted=BASE_ACCEPTED),
    Case("plain_gzip_input", lambda c: gzip.compress(c.vcf()), accepted=BASE_ACCEPTED),
    Case(
        "misplaced_header_line",
        lambda c: c.with_line("##INFO=<ID=late>"),
        accepted=BASE_ACCEPTED,
        reason="misplaced header line",
        line=BAD_LINE,
    ),
    Case("utf8_bom", lambda c: b"\xef\xbb\xbf" + c.vcf(), accepted=BASE_ACCEPTED),
    Case("blank_lines_between_records", lambda c: c.with_line(""), accepted=BASE_ACCEPTED),
    Case(
        "no_contig_lines_in_header",
        lambda c: c.vcf(header=[h for h in HEADER if not h.startswith("##contig")]),
        accepted=BASE_ACCEPTED,
    ),
    Case(
        "sites_only_vcf",
        lambda c: c.vcf(
            header=HEADER[:-1] + [HEADER[-1].rsplit("\t", 2)[0]],
            records=[r.rsplit("\t", 2)[0] for r in c.records()],
        ),
        accepted=BASE_ACCEPTED,
    ),
]


def _lowercase_alleles(record: str) -> str:
    fields = record.split("\t")
    fields[3], fields[4] = fields[3].lower(), fields[4].lower()
    return "\t".join(fields)


CASES = FILE_ERRORS + RECORD_OUTCOMES


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(Genome(DATA / "mini.fa"), tmp_path_factory.mktemp("corpus"))


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 35
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_it_handles_the_malformed_vcf(case: Case, corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / f"{case.name}.vcf"
    path.write_bytes(case.build(corpus))
    if case.error is not None:
        with pytest.raises(VcfFileError) as raised:
            validate_vcf(path, corpus.genome, limits=case.limits)
        assert case.error in str(raised.value)
        return
    report = validate_vcf(path, corpus.genome, limits=case.limits)
    assert len(report.accepted) == case.accepted
    assert set(report.reasons()) == ({case.reason} if case.reason else set())
    for issue in report.issues:
        assert case.line is None or issue.line == case.line
        assert case.detail is None or case.detail in issue.detail


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """Flip, insert, delete, duplicate or cut bytes, as a damaged upload would."""
    alphabet = b"\t\n\r ,;.<>[]*:=-0123456789ACGTNacgtnRY#\x00\xff\xe9"
    mutant = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at, roll = rng.randrange(len(mutant) + 1), rng.random()
        if roll < 0.35:
            mutant[at:at] = bytes([rng.choice(alphabet)])
        elif roll < 0.6:
            del mutant[at : at + rng.randint(1, 20)]
        elif roll < 0.8:
            source = rng.randrange(len(mutant) + 1)
            mutant[at:at] = mutant[source : source + rng.randint(1, 200)]
        elif roll < 0.9:
            mutant = bytearray(mutant.replace(b"\t", b" ", rng.randint(1, 5)))
        else:
            del mutant[at:]
    return gzip.compress(bytes(mutant)) if rng.random() < 0.15 else bytes(mutant)


def test_mutated_files_give_a_report_or_a_vcf_file_error(corpus: Corpus, tmp_path: Path) -> None:
    rng = random.Random(2024)
    base = corpus.with_line(corpus.record("I", 150, corpus.ref("I", 150), "A,<DEL>,*"))
    path = tmp_path / "mutant.vcf"
    for _ in range(300):
        path.write_bytes(_mutate(base, rng))
        try:
            report = validate_vcf(path, corpus.genome)
        except VcfFileError:
            continue
        for variant in report.accepted:
            assert variant.ref == corpus.ref(variant.chrom, variant.start + 1, len(variant.ref))


def _detailed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn off both short cuts: every line takes the checks that say what is wrong."""
    monkeypatch.setattr(RecordReader, "_plain_record", lambda self, number, body: None)
    monkeypatch.setattr(
        vcf._GenomeChecker, "check_all", lambda self, records: [self.check(r) for r in records]
    )


def _outcome(path: Path, genome: Genome) -> object:
    try:
        report = validate_vcf(path, genome)
    except VcfFileError as error:
        return str(error)
    return report.accepted, report.issues, report.records_read, report.multiallelic_split


def _varied(corpus: Corpus, rng: random.Random, count: int = 300) -> bytes:
    """Records of every kind intake meets: SNVs, multi-allelic, indels placed anywhere in
    repeats, lowercase, "." and real IDs, REF mismatches, N, symbolic and '*' alleles."""
    records = []
    for _ in range(count):
        chrom = rng.choice(["I", "II", "chrI"])
        length = 6000 if chrom != "II" else 4000
        pos = rng.randint(1, length - 15)
        base = corpus.ref(chrom.removeprefix("chr"), pos, rng.randint(1, 6))
        roll = rng.random()
        if roll < 0.4:
            ref, alt = base[0], corpus.alt(chrom.removeprefix("chr"), pos)
        elif roll < 0.55:
            ref, alt = base, base[0]
        elif roll < 0.7:
            ref, alt = base[0], base[0] + rng.choice(["A", "TT", "CAG", base[:2]])
        elif roll < 0.8:
            ref, alt = base[0], ",".join(rng.sample("ACGTN*", 2) + ["<DEL>"][: rng.randint(0, 1)])
        elif roll < 0.9:
            ref, alt = base.lower(), base[0].lower()
        else:
            ref, alt = rng.choice("ACGTN") + base[1:], rng.choice(["A", "C", "G", "T", "."])
        ident = rng.choice([".", f"rs{pos}", "a;b"])
        records.append(f"{chrom}\t{pos}\t{ident}\t{ref}\t{alt}\t.\t.\t.\tGT\t0/1")
    return corpus.vcf(records)


def test_the_short_cuts_change_no_outcome(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every corpus case and 300 damaged files give the same report (or error), variant by
    variant and issue by issue, with the fast checks on and with only the detailed ones."""
    rng = random.Random(7)
    base = corpus.with_line(corpus.record("I", 150, corpus.ref("I", 150), "A,<DEL>,*"))
    files = [case.build(corpus) for case in CASES if case.limits == VcfLimits()]
    varied = _varied(corpus, rng)
    files += [varied] + [_mutate(base, rng) for _ in range(200)]
    files += [_mutate(varied, rng) for _ in range(100)]
    paths = []
    for index, data in enumerate(files):
        paths.append(tmp_path / f"{index}.vcf")
        paths[-1].write_bytes(data)
    fast = [_outcome(path, corpus.genome) for path in paths]
    _detailed_only(monkeypatch)
    detailed = [_outcome(path, corpus.genome) for path in paths]
    assert sum(isinstance(outcome, tuple) for outcome in fast) > 100  # most give a report
    for path, one, other in zip(paths, fast, detailed, strict=True):
        assert one == other, path.name
