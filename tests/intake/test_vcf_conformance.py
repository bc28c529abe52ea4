"""Every public conformance VCF (``tests/data/vcf-corpus``) through the upload validation, with
the outcome ``expected.tsv`` states for it.

The files name human contigs that no bundled genome has, so each runs against a genome built
from the file itself: a FASTA with one contig per CHROM the records use (names a FASTA can hold:
no whitespace), as long as the records reach (capped at 4 Mb, so positions past that meet
intake's contig-end check), all N except that each record's REF, where it is made of A, C, G,
T and N, is written at its POS (the first record wins where two overlap). So a file's contigs
are always known and its REFs match unless the file contradicts itself: what is tested is
intake's reading of the file (header, columns, POS, REF and ALT syntax, splitting, dedupe,
normalisation), through the same call a real upload makes (``run_vcf_validation`` with the
settings' limits). The contig and REF checks against a real genome are the fuzz's and
``tests/engine/io/test_vcf_corpus.py``'s.

``expected.tsv``: ``file``; ``outcome``: ``refused`` (the InputError a user sees; ``detail``
is the start of its message), ``accepted`` (a report with no rejected allele) or ``rejected``
(a report with rejected alleles); ``alleles``: accepted alleles; ``detail``: the issue reasons
and their counts (``reason×n``, ``;``-separated); ``why``: for a ``failed`` file that intake
accepts, a ``passed`` file it does not fully accept, or an htslib file, the reason.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
from collections import Counter
from pathlib import Path

import pysam
import pytest

from engine.errors import InputError
from engine.pipeline.vcf import run_vcf_validation
from tests.intake.intake_child import catalog_resolver
from worker.jobs.vcf import vcf_limits

CORPUS = Path(__file__).resolve().parents[1] / "data" / "vcf-corpus"
CONTIG_CAP = 4_000_000
FASTA_BASES = set(b"ACGTN")


@dataclasses.dataclass(frozen=True)
class Expected:
    file: str
    outcome: str
    alleles: int
    detail: str
    why: str


def expected_outcomes() -> list[Expected]:
    with (CORPUS / "expected.tsv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [Expected(**row | {"alleles": int(row["alleles"] or 0)}) for row in rows]


EXPECTED = expected_outcomes()


def vcf_text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def genome_from(vcf: bytes, fasta: Path) -> Path:
    """The FASTA (and its .fai) of the file's own contigs, as the module docstring says."""
    # a contig of no name the files use: a FASTA needs one, and a file may name none it can hold
    contigs: dict[bytes, bytearray] = {b"placeholder": bytearray()}
    for line in vcf.split(b"\n"):
        fields = line.rstrip(b"\r").split(b"\t")
        if line.startswith(b"#") or len(fields) < 4 or not _fasta_name(fields[0]):
            continue
        sequence = contigs.setdefault(fields[0], bytearray())
        pos, ref = fields[1], fields[3].upper()
        if not (pos.isdigit() and 0 < int(pos) and int(pos) - 1 + len(ref) <= CONTIG_CAP):
            continue
        start = int(pos) - 1
        if len(sequence) < start + len(ref):
            sequence.extend(b"N" * (start + len(ref) - len(sequence)))
        if set(ref) <= FASTA_BASES and set(sequence[start : start + len(ref)]) == {ord("N")}:
            sequence[start : start + len(ref)] = ref
    with fasta.open("wb") as out:
        for name, sequence in contigs.items():
            out.write(b">" + name + b"\n" + bytes(sequence) + b"N" * 100 + b"\n")
    pysam.faidx(str(fasta))
    return fasta


def _fasta_name(name: bytes) -> bool:
    return bool(name) and not any(byte in b" \t\r\x0b\x0c" for byte in name)


def intake_outcome(path: Path, work: Path) -> tuple[str, int, str]:
    """``(outcome, accepted alleles, detail)`` of one file, as ``expected.tsv`` writes them."""
    fasta = genome_from(vcf_text(path), work / "genome.fa")
    try:
        output = run_vcf_validation(
            path, fasta, catalog_resolver(fasta), vcf_limits(), work, lambda done, total: None
        )
    except InputError as error:
        return "refused", 0, str(error)
    reasons = Counter(issue.reason for issue in output.report.issues)
    counts = output.report.counts()
    outcome = "rejected" if counts["rejected"] else "accepted"
    detail = ";".join(f"{reason}×{count}" for reason, count in sorted(reasons.items()))
    return outcome, counts["accepted"], detail


def test_the_table_covers_every_corpus_file() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.vcf*")}
    assert sorted(files) == sorted(expected.file for expected in EXPECTED)


def test_the_table_gives_a_reason_for_every_verdict_intake_does_not_share() -> None:
    for expected in EXPECTED:
        disagrees = ("/failed/" in expected.file) == (expected.outcome == "accepted")
        if disagrees or expected.file.startswith("htslib/"):
            assert len(expected.why) > 20, expected.file


@pytest.mark.parametrize("expected", EXPECTED, ids=[expected.file for expected in EXPECTED])
def test_intake_gives_the_expected_outcome(expected: Expected, tmp_path: Path) -> None:
    outcome, alleles, detail = intake_outcome(CORPUS / expected.file, tmp_path)
    assert outcome == expected.outcome, detail
    if outcome == "refused":
        assert detail.startswith(expected.detail)
    else:
        assert (alleles, detail) == (expected.alleles, expected.detail)
