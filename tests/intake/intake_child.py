"""Runs fuzz mutants through the upload validation, in a process with a memory cap.

``python -m tests.intake.intake_child MANIFEST`` reads a JSON manifest (``fasta``, ``limits``,
``memory_bytes``, ``seconds_each``, ``mutants``: ``[number, upload, out_dir]`` each) and prints
one JSON line per mutant as it finishes, so the parent knows which mutant a killed or stuck
process was on. The call is the validation job's own (``run_vcf_validation``: validate, write
the normalised VCF and the issue list), with the contig resolver the catalog builds.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

from engine.errors import InputError
from engine.io.contigs import ContigResolver, spellings
from engine.io.fasta import Genome
from engine.io.vcf import VcfLimits
from engine.pipeline.vcf import run_vcf_validation


class TookTooLong(Exception):
    """Raised by SIGALRM: the mutant ran past its time limit."""


def catalog_resolver(fasta: Path) -> ContigResolver:
    """The resolver ``genomeweb.catalog`` stores for a genome (its names and their spellings)."""
    genome = Genome(fasta)
    names = list(genome.contig_lengths)
    genome.close()
    aliases = {alias: name for name in names for alias in spellings(name) - {name}}
    return ContigResolver(names, aliases)


def validate(upload: Path, fasta: Path, limits: VcfLimits, out_dir: Path) -> dict:
    """The outcome of one upload: its report, or the InputError a user would see."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        output = run_vcf_validation(
            upload, fasta, catalog_resolver(fasta), limits, out_dir, lambda done, total: None
        )
    except InputError as error:
        return {"outcome": "input_error", "message": str(error)}
    report = output.report
    return {
        "outcome": "report",
        "accepted": [list(variant) for variant in report.accepted],
        "issues": [[i.line, i.status, i.reason, i.detail] for i in report.issues],
        "records_read": report.records_read,
        "normalized": str(output.normalized_vcf),
    }


def run_one(upload: Path, fasta: Path, limits: VcfLimits, out_dir: Path, seconds: int) -> dict:
    """``validate``, with anything but an InputError reported as a crash."""
    signal.alarm(seconds)
    try:
        return validate(upload, fasta, limits, out_dir)
    except TookTooLong:
        return {"outcome": "hang", "message": f"still running after {seconds} s"}
    except BaseException:  # MemoryError and RecursionError are crashes too
        return {"outcome": "crash", "message": traceback.format_exc()}
    finally:
        signal.alarm(0)


def main(manifest_path: str) -> None:
    manifest = json.loads(Path(manifest_path).read_text())
    memory = manifest["memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    signal.signal(signal.SIGALRM, _took_too_long)
    fasta, limits = Path(manifest["fasta"]), VcfLimits(**manifest["limits"])
    for number, upload, out_dir in manifest["mutants"]:
        started = time.perf_counter()
        result = run_one(Path(upload), fasta, limits, Path(out_dir), manifest["seconds_each"])
        result |= {"number": number, "seconds": time.perf_counter() - started}
        print(json.dumps(result), flush=True)


def _took_too_long(signum: int, frame: object) -> None:
    raise TookTooLong


if __name__ == "__main__":
    main(sys.argv[1])
