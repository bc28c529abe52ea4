"""The VCF validation job: an upload checked against the genome, normalised and explained."""

from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.io.contigs import ContigResolver
from engine.io.fasta import Genome
from engine.io.vcf import (
    VcfFileError,
    VcfLimits,
    VcfReport,
    validate_vcf,
    write_issues_tsv,
    write_normalized_vcf,
)
from engine.pipeline.common import Progress


@dataclass
class ValidationOutput:
    report: VcfReport
    normalized_vcf: Path
    issues_tsv: Path


def run_vcf_validation(
    upload: Path,
    fasta: Path,
    resolver: ContigResolver,
    limits: VcfLimits,
    out_dir: Path,
    progress: Progress,
) -> ValidationOutput:
    """Validate an uploaded VCF against a genome and write the normalised VCF and issue list.

    Returns:
        The report plus ``normalized.vcf.gz`` (bgzip + .tbi) and ``issues.tsv`` in ``out_dir``.

    Raises:
        InputError: the file as a whole is unusable; the message says why.
    """
    genome = Genome(fasta)
    try:
        report = validate_vcf(upload, genome, limits=limits, resolver=resolver, progress=progress)
        normalized = write_normalized_vcf(report, genome, out_dir / "normalized.vcf.gz")
    except VcfFileError as error:
        raise InputError(str(error)) from error
    finally:
        genome.close()
    issues = out_dir / "issues.tsv"
    write_issues_tsv(report, issues)
    return ValidationOutput(report=report, normalized_vcf=normalized, issues_tsv=issues)
