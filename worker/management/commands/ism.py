"""``manage.py ism``: in silico saturation mutagenesis of a stretch of the genome."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomeweb.lib.ism import MAX_ISM_BP
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
        "objective(reference) to an npz (0 at the reference base)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True)
        parser.add_argument("--region", required=True, help="chrom:start-end, 1-based")
        parser.add_argument("--out", required=True, type=Path, help="the .npz to write")
        add_objective_arguments(parser)
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument(
            "--plain", action="store_true", help="predict whole mutants (no fast path)"
        )

    def handle(self, *args, **options) -> None:
        import numpy as np

        from genomeweb.genomics.encoding import one_hot
        from genomeweb.genomics.fasta import Genome
        from worker.interpret import centred_window, ism

        predictor = find_predictor(options["model"])
        genome = Genome(predictor.genome.fasta_file)
        region = parse_region(options["region"], predictor, genome.contig_lengths)
        if len(region) > MAX_ISM_BP:
            raise CommandError(f"--region is {len(region):,} bp; ISM takes at most {MAX_ISM_BP:,}")
        model, _ = load_model(predictor, None, options["no_rc"])
        window = centred_window(model, region)
        objective = build_objective(options, model, window, predictor, genome.contig_lengths)
        sequence = genome.fetch(window)
        first = region.start - window.start
        began = time.monotonic()
        result = ism(
            model,
            one_hot(sequence),
            objective,
            first,
            first + len(region),
            batch_size=options["batch_size"],
            fast=not options["plain"],
        )
        seconds = time.monotonic() - began
        np.savez(
            options["out"],
            effects=result.effects,
            reference=np.array(list(sequence[first : first + len(region)])),
            chrom=region.chrom,
            start=region.start,
            end=region.end,
            window_start=window.start,
            objective=objective.description,
            reference_objective=result.reference,
            model=predictor.name,
            tracks=np.array([model.tracks.tracks[t].identifier for t in objective.tracks]),
            seconds=seconds,
        )
        self._report(result, region, seconds, options["out"])

    def _report(self, result, region, seconds: float, out: Path) -> None:
        strongest = result.effects.min(axis=1).argsort()[:5]
        places = ", ".join(
            f"{region.chrom}:{region.start + p + 1:,} ({result.effects[p].min():+.3f})"
            for p in strongest
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.forward_passes} mutants of {region.to_ucsc()} in {seconds:.1f} s "
                f"({len(region) / max(seconds, 1e-9):.1f} positions/s) -> {out}\n"
                f"strongest decreases: {places}"
            )
        )
