"""The VCFs genomeweb writes pass htslib's own strict reader: bcftools.

A real (tiny-model) scoring run's annotated VCF, and the normalised VCF its validation wrote,
go through ``bcftools view`` (every record and INFO value parsed against the header) and
``bcftools norm -c e -f`` (REF checked against the FASTA; a wrong REF is an error). Intake
left-aligns and trims as ``bcftools norm -f`` does, so bcftools must find nothing to realign.
bcftools is Debian's (``scripts/test.sh`` installs it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
BCFTOOLS = "/usr/bin/bcftools"  # Debian's, installed by scripts/test.sh
# "Lines   total/split/joined/realigned/skipped:	7/0/0/0/0" (bcftools 1.16 has no "joined")
NORM_SUMMARY = re.compile(r"Lines\s+total/split/(?:joined/)?realigned/skipped:\s+([\d/]+)")


def bcftools(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BCFTOOLS, *args], capture_output=True, text=True, timeout=120, check=False
    )


def assert_bcftools_accepts(vcf: Path, records: int) -> None:
    """``bcftools view`` and ``norm -c e`` read ``vcf`` without a warning and change nothing."""
    view = bcftools("view", "--no-version", "-H", str(vcf))
    assert view.returncode == 0, view.stderr
    assert view.stderr == ""  # htslib warns about undeclared or mistyped INFO here
    assert len(view.stdout.splitlines()) == records
    norm = bcftools("norm", "--no-version", "-c", "e", "-f", str(DATA / "mini.fa"), str(vcf))
    assert norm.returncode == 0, norm.stderr
    counts = [int(n) for n in NORM_SUMMARY.search(norm.stderr).group(1).split("/")]
    assert counts[0] == records
    assert counts[1:] == [0] * (len(counts) - 1), norm.stderr  # nothing split, moved, skipped
    assert [line for line in norm.stderr.splitlines() if not NORM_SUMMARY.match(line)] == []


@pytest.mark.django_db
def test_bcftools_accepts_the_annotated_vcf_of_a_scoring_run(scored):
    annotated = Path(scored.artifacts.get(name="annotated.vcf.gz").path)
    assert_bcftools_accepts(annotated, records=7)


@pytest.mark.django_db
def test_bcftools_accepts_the_normalized_vcf_of_a_validation(validated_set):
    job = validated_set.validation_job
    assert_bcftools_accepts(Path(job.artifacts.get(name="normalized.vcf.gz").path), records=7)
