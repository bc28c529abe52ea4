"""The VCF intake alone: what a scoring job would accept from a file, and why not the rest."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.io.fasta import Genome as Fasta
from engine.io.vcf import VcfFileError, validate_vcf, write_normalized_vcf
from genomeweb.catalog.models import Genome

NOT_A_VCF = 2  # exit status when the file cannot be read as a VCF at all


class Command(BaseCommand):
    help = (
        "Validate a VCF against a loaded genome as an upload is (REF check, multi-allelic "
        "split, left-alignment, sort, duplicates): prints the counts, every issue with its "
        "line, and records/s. Exit status 0 when the file was read (even with rejected "
        "records), 2 when it is not a readable VCF."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--genome", required=True, help="a genome loaded with load_genome")
        parser.add_argument("--vcf", required=True, type=Path)
        parser.add_argument(
            "--out", type=Path, help="write the accepted alleles here (.vcf.gz, with a .tbi)"
        )

    def handle(self, *args, **options) -> None:
        genome = Genome.objects.filter(name=options["genome"]).first()
        if genome is None:
            raise CommandError(f"no genome '{options['genome']}': load it with load_genome first")
        out = options["out"]
        if out is not None and not out.name.endswith(".vcf.gz"):
            raise CommandError(f"--out {out} must end with .vcf.gz")
        vcf = options["vcf"]
        if not vcf.is_file():
            raise CommandError(f"no file at {vcf}", returncode=NOT_A_VCF)
        fasta = Fasta(genome.fasta_file)
        try:
            began = time.perf_counter()
            report = validate_vcf(vcf, fasta, resolver=genome.contig_resolver())
            seconds = time.perf_counter() - began
            if out is not None:
                write_normalized_vcf(report, fasta, out)
        except VcfFileError as error:
            raise CommandError(str(error), returncode=NOT_A_VCF) from error
        finally:
            fasta.close()
        for issue in report.issues:
            self.stderr.write(f"line {issue.line}: {issue.status} ({issue.reason}): {issue.detail}")
        for warning in report.warnings():
            self.stderr.write(warning)
        counts = report.counts()
        rate = report.records_read / max(seconds, 1e-9)
        self.stdout.write(
            f"{report.records_read:,} records in {seconds:.2f} s ({rate:,.0f} records/s): "
            f"{counts['accepted']:,} alleles accepted, {counts['skipped']:,} skipped, "
            f"{counts['rejected']:,} rejected; {report.duplicates:,} duplicates removed, "
            f"{report.realigned:,} left-aligned or trimmed"
            + (f" -> {out}" if out is not None else "")
        )
