"""``manage.py ism``: in silico saturation mutagenesis of a stretch of the genome."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomeweb.genomics.intervals import Interval
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
        parser.add_argument(
            "--figure",
            action="store_true",
            help="also write the paper figure beside --out (same name, .svg and .png)",
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
        stretch = sequence[first : first + len(region)]
        motifs = self._motifs(predictor, result.effects, stretch, region)
        if options["figure"]:
            self._figure(options["out"], model, region, objective, result.effects, stretch, motifs)
        np.savez(
            options["out"],
            effects=result.effects,
            reference=np.array(list(stretch)),
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
        for match in motifs:
            where = Interval(region.chrom, match.start, match.end).readable()
            self.stdout.write(
                f"motif: {match.label} {where} ({match.strand}), {match.score:.1f} bits"
            )

    def _motifs(self, predictor, effects, stretch: str, region):
        """JASPAR motifs of the genome's taxon over the stretches that matter."""
        from genomeweb.genomics.motif_scan import (
            label_segments,
            load_matrices,
            tax_group_for_species,
        )
        from genomeweb.lib.ism import mean_substitution_effect
        from worker.pipeline import ISM_NOISE_MADS

        matrices = load_matrices(tax_group_for_species(predictor.genome.species))
        importance = -mean_substitution_effect(effects, stretch)
        return label_segments(
            stretch, importance, matrices, offset=region.start, noise_mads=ISM_NOISE_MADS
        )

    def _figure(self, out: Path, model, region, objective, effects, stretch: str, motifs) -> None:
        from worker.figures import ism_figure

        title = f"{model.name}: ISM of {region.readable()}, {objective.description}"
        svg, png = ism_figure(effects, stretch, region, title, motifs)
        out.with_suffix(".svg").write_text(svg)
        out.with_suffix(".png").write_bytes(png)

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
