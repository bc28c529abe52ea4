"""Hostile input in CI (issue 15 item 8): 1,600 damaged real VCFs through the upload validation.

The mutants (``mutants.py``: truncation, random and NUL bytes, CRLF, huge lines and INFO, wrong
column counts, lying gzip, bad BGZF blocks, 100,000 contigs, unicode, ...) go through the
validation job's own call (``run_vcf_validation``, with the upload limits of the settings)
against the real yeast genome, in child processes with a memory cap and a time limit per
mutant (``intake_child.py``), a batch of mutants per process, several processes at once.

Every mutant must end in a report or the InputError a user sees: any other exception is a
crash, running past the limit a hang. Every accepted allele must be the allele its line wrote,
read again by the plain parse below (CHROM, POS, ID, REF, ALT as written; REF as the genome
has it; the same haplotype where intake left-aligned it); every record line must be accepted
or explained by an issue; the normalised VCF must hold exactly the accepted alleles.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from engine.io.fasta import Genome
from engine.io.intervals import Interval
from tests.intake.mutants import Context, Mutant, build_mutants
from worker.jobs.vcf import vcf_limits

ROOT = Path(__file__).resolve().parents[2]
YEAST_FASTA = ROOT / "data" / "yeast" / "sacCer3.fa.gz"
MUTANTS = 1_600
BATCH = 100  # mutants per child process
PROCESSES = min(4, os.cpu_count() or 1)
MEMORY_BYTES = 2 * 2**30  # address space of a child: the interpreter, pysam and numpy use ~0.2
SECONDS_EACH = 60  # a mutant's limit; the slowest take ~1 s here (a 1 MiB line, 15k contigs)
BATCH_SECONDS = 900  # only stuck C code (SIGALRM cannot interrupt it) meets this one
BASES = set("ACGTN")

pytestmark = pytest.mark.slow  # real processes; CI runs it


@dataclasses.dataclass
class Outcome:
    mutant: Mutant
    result: dict


@dataclasses.dataclass
class FuzzRun:
    outcomes: list[Outcome]
    seconds: float  # making the mutants and validating them


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    """The whole yeast genome as strings: the independent reading of REF."""
    genome = Genome(YEAST_FASTA)
    lengths = genome.contig_lengths.items()
    sequences = {name: genome.fetch(Interval(name, 0, n)) for name, n in lengths}
    genome.close()
    return sequences


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory: pytest.TempPathFactory) -> FuzzRun:
    work = tmp_path_factory.mktemp("fuzz")
    (work / "mutants").mkdir()
    started = time.perf_counter()
    genome = Genome(YEAST_FASTA)
    mutants = build_mutants(work / "mutants", MUTANTS, Context(genome))
    genome.close()
    results = run_all(mutants, work)
    outcomes = [Outcome(mutant, results[mutant.number]) for mutant in mutants]
    return FuzzRun(outcomes, time.perf_counter() - started)


@pytest.fixture(scope="module")
def outcomes(fuzz_run: FuzzRun) -> list[Outcome]:
    return fuzz_run.outcomes


# --- running the children -------------------------------------------------------------------


def run_all(mutants: list[Mutant], work: Path) -> dict[int, dict]:
    batches = [mutants[i : i + BATCH] for i in range(0, len(mutants), BATCH)]
    results: dict[int, dict] = {}
    with ThreadPoolExecutor(max_workers=PROCESSES) as pool:
        for part in pool.map(partial(run_batch, work=work), batches):
            results |= part
    return results


def run_batch(batch: list[Mutant], work: Path) -> dict[int, dict]:
    """Results of every mutant of ``batch``: a child that dies or sticks is blamed on the
    mutant it was on, and a new child goes on with the rest."""
    results: dict[int, dict] = {}
    pending = batch
    while pending:
        done, failure = run_child(pending, work)
        results |= done
        pending = [mutant for mutant in pending if mutant.number not in results]
        if pending and failure:
            results[pending[0].number] = failure
            pending = pending[1:]
        elif pending:
            raise AssertionError(f"the child skipped mutants {[m.number for m in pending]}")
    return results


def run_child(mutants: list[Mutant], work: Path) -> tuple[dict[int, dict], dict | None]:
    """One child's results, and how it failed (None if it exited cleanly)."""
    manifest = work / f"manifest-{mutants[0].number}.json"
    manifest.write_text(
        json.dumps(
            {
                "fasta": str(YEAST_FASTA),
                "limits": dataclasses.asdict(vcf_limits()),  # what a real upload gets
                "memory_bytes": MEMORY_BYTES,
                "seconds_each": SECONDS_EACH,
                "mutants": [
                    [m.number, str(m.path), str(work / "out" / m.path.stem)] for m in mutants
                ],
            }
        )
    )
    command = [sys.executable, "-m", "tests.intake.intake_child", str(manifest)]
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        child = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=BATCH_SECONDS
        )
    except subprocess.TimeoutExpired as stuck:
        output = stuck.stdout.decode() if isinstance(stuck.stdout, bytes) else stuck.stdout or ""
        return _parsed(output), {"outcome": "hang", "message": f"no result in {BATCH_SECONDS} s"}
    failure = None
    if child.returncode != 0:
        message = f"exit {child.returncode}: {child.stderr[-3000:]}"
        failure = {"outcome": "crash", "message": message}
    return _parsed(child.stdout), failure


def _parsed(output: str) -> dict[int, dict]:
    results = {}
    for line in output.splitlines():
        try:
            result = json.loads(line)
        except json.JSONDecodeError:  # the last line of a killed child may be cut
            continue
        results[result["number"]] = result
    return results


# --- the independent reading -----------------------------------------------------------------


@dataclasses.dataclass
class Upload:
    """The mutant as a plain parse reads it: its lines, and the #CHROM line's number and
    column count (``chrom_line`` 0: none)."""

    lines: list[str | None]  # None: not UTF-8
    chrom_line: int
    columns: int

    def fields(self, number: int) -> list[str]:
        text = self.lines[number - 1]
        assert text is not None, f"line {number} is not UTF-8 but was accepted"
        return text.split("\t")

    def record_lines(self) -> set[int]:
        """Numbers of the non-blank lines after the #CHROM line."""
        return {
            number
            for number, text in enumerate(self.lines, 1)
            if number > self.chrom_line and (text is None or text.strip(" \t\r\n\x0b\x0c"))
        }


def read_upload(path: Path) -> Upload:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    data = data.removeprefix(b"\xef\xbb\xbf")
    lines = [_utf8(line.removesuffix(b"\r")) for line in data.split(b"\n")]
    if lines[-1] == "":
        lines.pop()  # the file's last line end
    for number, text in enumerate(lines, 1):
        if text is not None and text.split(maxsplit=1)[:1] in (["#CHROM"], ["#chrom"]):
            return Upload(lines, number, len(text.split("\t")))
    return Upload(lines, 0, 0)


def _utf8(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def check_allele(upload: Upload, allele: list, reference: dict[str, str]) -> None:
    """The accepted allele is what its line wrote: CHROM, POS, ID, REF (the genome's) and one
    ALT, as written or, left-aligned and trimmed, the same haplotype."""
    chrom, start, ref, alt, ident, number, written = allele
    fields = upload.fields(number)
    assert number > upload.chrom_line and len(fields) == upload.columns
    assert fields[0] in (chrom, f"chr{chrom}") and fields[2] in (ident, ".") and ident != "."
    assert fields[1].isascii() and fields[1].isdigit() and int(fields[1]) >= 1
    pos, written_ref = int(fields[1]), fields[3].upper()
    assert written_ref and set(written_ref) <= BASES
    assert reference[chrom][pos - 1 : pos - 1 + len(written_ref)] == written_ref
    assert reference[chrom][start : start + len(ref)] == ref and set(alt) <= BASES and alt != ref
    alts = fields[4].upper().split(",")
    if not written:
        assert (start, ref) == (pos - 1, written_ref) and alt in alts
        return
    written_alt = written.rsplit(":", 1)[1]
    assert written == f"{chrom}:{pos}:{written_ref}:{written_alt}" and written_alt in alts
    low, high = min(start, pos - 1), max(start + len(ref), pos - 1 + len(written_ref))
    window = reference[chrom][low:high]

    def haplotype(at: int, old: str, new: str) -> str:
        return window[: at - low] + new + window[at - low + len(old) :]

    assert haplotype(start, ref, alt) == haplotype(pos - 1, written_ref, written_alt)


def normalized_alleles(path: Path) -> list[tuple]:
    # newline="\n": an ID may hold a CR as written (VCF forbids it; intake keeps IDs as they are)
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    return [(r[0], int(r[1]) - 1, r[3], r[4], "" if r[2] == "." else r[2]) for r in rows]


# --- the tests ------------------------------------------------------------------------------


def reports(outcomes: list[Outcome]) -> list[Outcome]:
    return [outcome for outcome in outcomes if outcome.result["outcome"] == "report"]


def test_no_mutant_crashes_or_hangs(outcomes: list[Outcome]) -> None:
    failures = [
        f"mutant {o.mutant.number} ({o.mutant.operator} of {o.mutant.seed}): "
        f"{o.result['outcome']}\n{o.result['message']}"
        for o in outcomes
        if o.result["outcome"] not in ("report", "input_error")
    ]
    assert failures == [], "\n\n".join(failures)


def test_every_error_says_what_is_wrong(outcomes: list[Outcome]) -> None:
    """...in text PostgreSQL can store (no NUL), where the job's error and the issues go."""
    for outcome in outcomes:
        if outcome.result["outcome"] == "input_error":
            message = outcome.result["message"]
            assert len(message) > 20 and "Traceback" not in message and "\x00" not in message
        for _, status, reason, detail in outcome.result.get("issues", []):
            assert status in ("skipped", "rejected") and reason and detail
            assert "\x00" not in reason + detail


def test_the_harness_reports_a_crash_as_one(tmp_path: Path) -> None:
    missing = Mutant(0, "none", "none", tmp_path / "missing.vcf")
    [result] = run_batch([missing], tmp_path).values()
    assert result["outcome"] == "crash" and "FileNotFoundError" in result["message"]


def test_every_accepted_allele_is_the_allele_its_line_wrote(
    outcomes: list[Outcome], reference: dict[str, str]
) -> None:
    checked = 0
    for outcome in reports(outcomes):
        upload = read_upload(outcome.mutant.path)
        for allele in outcome.result["accepted"]:
            try:
                check_allele(upload, allele, reference)
            except AssertionError as wrong:
                raise AssertionError(f"mutant {outcome.mutant.number}: {allele}") from wrong
            checked += 1
    assert checked > 20_000  # the check reached many alleles


def test_every_record_line_is_accepted_or_has_an_issue(outcomes: list[Outcome]) -> None:
    for outcome in reports(outcomes):
        upload = read_upload(outcome.mutant.path)
        seen = {allele[5] for allele in outcome.result["accepted"]}
        seen |= {issue[0] for issue in outcome.result["issues"]}
        assert seen == upload.record_lines(), outcome.mutant.number
        assert outcome.result["records_read"] == len(seen), outcome.mutant.number


def test_the_normalized_vcf_holds_exactly_the_accepted_alleles(outcomes: list[Outcome]) -> None:
    for outcome in reports(outcomes):
        expected = [tuple(allele[:5]) for allele in outcome.result["accepted"]]
        assert normalized_alleles(Path(outcome.result["normalized"])) == expected


def test_the_mutants_reach_every_outcome(
    fuzz_run: FuzzRun, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = fuzz_run.outcomes
    counts = Counter(o.result["outcome"] for o in outcomes)
    with_accepted = sum(1 for o in reports(outcomes) if o.result["accepted"])
    alleles = sum(len(o.result["accepted"]) for o in reports(outcomes))
    issues = sum(len(o.result["issues"]) for o in reports(outcomes))
    by_operator = Counter((o.mutant.operator, o.result["outcome"]) for o in outcomes)
    slowest = max(outcomes, key=lambda o: o.result.get("seconds", 0))
    with capsys.disabled():  # the numbers belong in the CI log
        print(
            f"\n{len(outcomes)} mutants in {fuzz_run.seconds:.0f} s: {dict(counts)}; "
            f"{with_accepted} reports accept {alleles:,} alleles, {issues:,} issues; slowest "
            f"{slowest.result['seconds']:.1f} s ({slowest.mutant.operator})"
        )
        for (operator, outcome), count in sorted(by_operator.items()):
            print(f"  {operator:22} {outcome:12} {count}")
    assert len(outcomes) >= 1_500
    assert counts["input_error"] > 150 and with_accepted > 500
    assert len({o.mutant.operator for o in outcomes}) >= 19
