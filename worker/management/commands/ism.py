"""``manage.py ism``: in silico saturation mutagenesis of a stretch of the genome, through the
ISM job's own pipeline step (``engine.pipeline.ism.run_ism``), so both write the same npz."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.interpret.ism_rules import MAX_ISM_BP
from engine.io.intervals import Interval
from worker.management.commands._common import (
    add_objective_arguments,
    build_objective,
    find_predictor,
    load_model,
    parse_region,
)


class Command(BaseCommand):
    help = (
        "Predict every single-base substitution of --region (at most 2,000 bp) in a model "
        "window centred on it, and write the (L, 4) matrix of objective(mutant) − "
        "objective(reference) to an npz (0 at the reference base), the same file an ISM job "
        "writes."
    )

    def add_arguments(self, parser) -> None:
        from engine.pipeline.ism import ISM_BATCH_SIZE

        parser.add_argument("--model", required=True)
        parser.add_argument("--region", required=True, help="chrom:start-end, 1-based")
        parser.add_argument("--out", required=True, type=Path, help="the .npz to write")
        add_objective_arguments(parser)
        parser.add_argument("--batch-size", type=int, default=ISM_BATCH_SIZE)
        parser.add_argument(
            "--plain", action="store_true", help="predict whole mutants (no fast path)"
        )
        parser.add_argument(
            "--figure",
            action="store_true",
            help="also write the paper figure beside --out (same name, .svg and .png)",
        )

    def handle(self, *args, **options) -> None:
        from engine.interpret.objectives import centred_window
        from engine.io.fasta import Genome
        from engine.pipeline.ism import run_ism

        predictor = find_predictor(options["model"])
        genome = Genome(predictor.genome.fasta_file)
        try:
            region = parse_region(options["region"], predictor, genome.contig_lengths)
            contigs = dict(genome.contig_lengths)
        finally:
            genome.close()
        if len(region) > MAX_ISM_BP:
            raise CommandError(f"--region is {len(region):,} bp; ISM takes at most {MAX_ISM_BP:,}")
        model, _ = load_model(predictor, None, options["no_rc"])
        window = centred_window(model, region)
        objective = build_objective(options, model, window, predictor, contigs)
        out: Path = options["out"]
        with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
            began = time.monotonic()
            output = run_ism(
                model,
                predictor.genome.fasta_file,
                region,
                window,
                objective,
                Path(scratch),
                lambda done, total: None,
                motif_matrices=predictor.genome.motif_matrices(),
                batch_size=options["batch_size"],
                fast=not options["plain"],
            )
            seconds = time.monotonic() - began
            shutil.move(Path(scratch) / "ism.npz", out)
            if options["figure"]:
                for suffix in (".svg", ".png"):
                    shutil.move(Path(scratch) / f"ism{suffix}", out.with_suffix(suffix))
        self._report(output.summary, region, seconds, out)

    def _report(self, summary: dict, region: Interval, seconds: float, out: Path) -> None:
        import numpy as np

        with np.load(out) as saved:
            effects = saved["effects"]
        strongest = effects.min(axis=1).argsort()[:5]
        places = ", ".join(
            f"{region.chrom}:{region.start + p + 1:,} ({effects[p].min():+.3f})" for p in strongest
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['mutants']} mutants of {region.to_ucsc()} in {seconds:.1f} s "
                f"({len(region) / max(seconds, 1e-9):.1f} positions/s) -> {out}\n"
                f"strongest decreases: {places}"
            )
        )
        for match in summary["motifs"]:
            where = Interval(region.chrom, match["start"], match["end"]).readable()
            self.stdout.write(
                f"motif: {match['label']} {where} ({match['strand']}), {match['bits']:.1f} bits"
            )
