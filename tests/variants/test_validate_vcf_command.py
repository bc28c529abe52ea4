"""manage.py validate_vcf: the intake alone, with counts, every issue and an exit status."""

import io
from pathlib import Path

import pysam
import pytest
from django.core.management import CommandError, call_command

from engine.io.fasta import Genome as Fasta
from engine.io.intervals import Interval

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def run(**options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("validate_vcf", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def calls(genome, tmp_path) -> Path:
    """Line 3: a good SNV (as chrI); line 4: a REF mismatch; line 5: an unknown contig."""
    fasta = Fasta(genome.fasta_file)
    base = fasta.fetch(Interval("I", 99, 100))
    wrong = "A" if fasta.fetch(Interval("I", 199, 200)) != "A" else "C"
    path = tmp_path / "calls.vcf"
    path.write_text(
        HEADER
        + f"chrI\t100\trs1\t{base}\t{'G' if base != 'G' else 'T'}\t.\t.\t.\n"
        + f"I\t200\tbad\t{wrong}\tT\t.\t.\t.\n"
        + "chrZ\t5\tz\tA\tG\t.\t.\t.\n"
    )
    return path


def test_it_prints_counts_every_issue_and_the_rate(genome, calls, tmp_path):
    out_path = tmp_path / "normalised.vcf.gz"
    stdout, stderr = run(genome="mini", vcf=calls, out=out_path)
    assert (
        "3 records in " in stdout
        and " records/s): 1 alleles accepted, 0 skipped, 2 rejected" in stdout
    )
    assert "line 4: rejected (REF mismatch): REF is" in stderr
    assert "line 5: rejected (unknown contig)" in stderr
    with pysam.VariantFile(str(out_path)) as normalised:
        assert [(r.chrom, r.pos, r.id) for r in normalised] == [("I", 100, "rs1")]


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n" + bytes(range(256)), b"not a vcf at all\n"],
    ids=["png", "text"],
)
def test_a_file_that_is_not_a_vcf_exits_with_status_2(genome, tmp_path, content):
    path = tmp_path / "upload.vcf"
    path.write_bytes(content)
    with pytest.raises(CommandError) as raised:
        run(genome="mini", vcf=path)
    assert raised.value.returncode == 2 and str(raised.value)


def test_a_missing_file_or_genome_is_explained(genome, tmp_path):
    with pytest.raises(CommandError, match="no file at") as raised:
        run(genome="mini", vcf=tmp_path / "nothing.vcf")
    assert raised.value.returncode == 2
    with pytest.raises(CommandError, match="no genome 'hg38'"):
        run(genome="hg38", vcf=tmp_path / "nothing.vcf")
