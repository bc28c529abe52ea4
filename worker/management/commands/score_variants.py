"""``manage.py score_variants``: variant effect scores of a VCF, written as TSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomeweb.catalog.models import Predictor, resolve_data_path
from worker.management.commands._common import find_predictor, load_model

MAX_ISSUES_ON_STDERR = 20  # more than this go to <out>.issues.tsv
DEFAULT_SCORERS = ("SUM", "logSUM", "logSED", "D1", "D2", "logD1", "logD2", "SAX", "JS")


class Command(BaseCommand):
    help = (
        "Score the variants of a VCF with a registered model. Writes one TSV row per (allele, "
        "track) with a column per scorer (untransformed counts, MODEL_NOTES 'Calico's variant "
        "scores'), and with --genes the gene-level SED/logSED to <out>.genes.tsv."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True)
        parser.add_argument("--vcf", required=True, type=Path)
        parser.add_argument("--out", required=True, type=Path, help="the TSV to write")
        parser.add_argument("--scorers", nargs="+", default=list(DEFAULT_SCORERS))
        parser.add_argument("--tracks", nargs="*", help="track identifiers (default: all)")
        parser.add_argument(
            "--no-rc", action="store_true", help="skip reverse-complement averaging"
        )
        parser.add_argument(
            "--shifts",
            type=int,
            nargs="+",
            help="input shifts (bp) whose scores are averaged; default: the model's own "
            "(see its page), the set that makes its scores placement-robust",
        )
        parser.add_argument(
            "--placement",
            choices=("shared", "centred"),
            default="shared",
            help="shared: variants near each other share a reference window (fast; the "
            "default); centred: one window centred on each variant (the per-variant definition)",
        )
        parser.add_argument("--genes", action="store_true", help="also score the genes nearby")
        parser.add_argument(
            "--batch-size",
            type=int,
            help="sequences per forward pass (default: the runtime's choice for the device)",
        )

    def handle(self, *args, **options) -> None:
        from engine.io.fasta import Genome
        from engine.pipeline.scoring import score_alleles

        predictor = find_predictor(options["model"])
        _check_scorers(options["scorers"])
        # Model and tracks before the VCF: a typo in the command fails in seconds.
        shifts = tuple(sorted(set(options["shifts"]))) if options["shifts"] else None
        model, tracks = load_model(predictor, options["tracks"], options["no_rc"], shifts)
        genes = _read_genes(predictor) if options["genes"] else None
        genome = Genome(predictor.genome.fasta_file)
        try:
            report = self._validate(options["vcf"], predictor, genome, options["out"])
        finally:
            genome.close()
        result = score_alleles(
            model,
            predictor.genome.fasta_file,
            report.accepted,
            scorers=options["scorers"],
            tracks=tracks,
            genes=genes,
            batch_size=options["batch_size"],
            window_step=1 if options["placement"] == "centred" else None,
        ).scores
        for index in result.unscored:
            line = result.variants[index].line
            self.stderr.write(f"line {line}: not scored (allele too long for the model window)")
        identifiers = [model.tracks.tracks[t].identifier for t in result.tracks]
        result = self._calibrated(predictor, result, identifiers)
        written = _write_outputs(options["out"], result, identifiers, with_genes=bool(genes))
        scored = len(result.variants) - len(result.unscored)
        self.stdout.write(
            self.style.SUCCESS(
                f"scored {scored} alleles on {len(identifiers)} tracks (shifts "
                f"{', '.join(map(str, model.shifts))}, {options['placement']} windows) -> "
                + ", ".join(str(path) for path in written)
            )
        )

    def _calibrated(self, predictor: Predictor, result, identifiers: list[str]):
        """With the model's background: a ``<scorer>_pct`` column beside each scorer."""
        from engine.errors import InputError
        from worker.jobs.calibration import score_calibrator

        try:
            calibrator = score_calibrator(predictor)
        except InputError as error:
            raise CommandError(str(error)) from error
        if calibrator is None:
            self.stderr.write(
                f"{predictor.name} has no score background: no percentiles "
                "(manage.py build_background makes one)"
            )
            return result
        self.stdout.write(f"percentiles against {calibrator.row.description}")
        return calibrator.calibrate(result, identifiers)

    def _validate(self, vcf: Path, predictor: Predictor, genome, out: Path):
        """Validate the VCF against the model's genome; report counts and issues."""
        from engine.io.vcf import VcfFileError, validate_vcf, write_issues_tsv

        if not vcf.is_file():
            raise CommandError(f"no VCF at {vcf}")
        try:
            report = validate_vcf(vcf, genome, resolver=predictor.genome.contig_resolver())
        except VcfFileError as error:
            raise CommandError(str(error)) from error
        counts = report.counts()
        self.stdout.write(
            f"{report.records_read} records: {counts['accepted']} alleles accepted, "
            f"{counts['skipped']} skipped, {counts['rejected']} rejected"
        )
        for warning in report.warnings():
            self.stderr.write(warning)
        if len(report.issues) > MAX_ISSUES_ON_STDERR:
            path = write_issues_tsv(report, _sibling(out, ".issues.tsv"))
            self.stderr.write(f"{len(report.issues)} issues listed in {path}")
        else:
            for issue in report.issues:
                self.stderr.write(
                    f"line {issue.line}: {issue.status} ({issue.reason}): {issue.detail}"
                )
        return report


def _check_scorers(names: list[str]) -> None:
    from engine.variants.scorers import VARIANT_SCORERS

    unknown = [name for name in names if name not in VARIANT_SCORERS]
    if unknown:
        raise CommandError(
            f"unknown scorers: {', '.join(unknown)} (choose from {', '.join(VARIANT_SCORERS)})"
        )


def _read_genes(predictor: Predictor) -> list:
    from engine.io.annotation import read_genes

    if not predictor.genome.annotation_path:
        raise CommandError(f"genome {predictor.genome.name} has no gene annotation for --genes")
    return read_genes(resolve_data_path(predictor.genome.annotation_path))


def _write_outputs(out: Path, result, identifiers: list[str], *, with_genes: bool) -> list[Path]:
    """``out`` (allele × track scores) and, with genes, ``<out>.genes.tsv``."""
    from engine.variants.exports import write_gene_tsv, write_scores_long_tsv

    write_scores_long_tsv(result, identifiers, out)
    if not with_genes:
        return [out]
    return [out, write_gene_tsv(result, identifiers, _sibling(out, ".genes.tsv"))]


def _sibling(out: Path, suffix: str) -> Path:
    """``scores.tsv`` → ``scores.tsv<suffix>``, next to it."""
    return out.with_name(out.name + suffix)
