"""``manage.py saliency``: gradient × input over a model window."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomeweb.genomics.intervals import Interval
from worker.management.commands._common import (
    add_objective_arguments,
    build_objective,
    find_gene,
    find_predictor,
    load_model,
    parse_region,
)

FOCUSED_ISM_BP = 192  # MODEL_NOTES.md's focused-ISM recipe


class Command(BaseCommand):
    help = (
        "Gradient × input of an objective over a model window centred on --region (or, with "
        "--gene and no --region, on the gene), gradient mean-centred over A, C, G, T; writes "
        "an npz, and with --bigwig the per-base contribution as a bigWig."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True)
        parser.add_argument("--region", help="the window's centre: chrom:start-end, 1-based")
        parser.add_argument("--out", required=True, type=Path, help="the .npz to write")
        parser.add_argument("--bigwig", type=Path, help="also write the contribution here")
        add_objective_arguments(parser)

    def handle(self, *args, **options) -> None:
        import numpy as np

        from genomeweb.genomics.encoding import one_hot
        from genomeweb.genomics.fasta import Genome
        from worker.interpret import centred_window, peak_window, saliency

        predictor = find_predictor(options["model"])
        genome = Genome(predictor.genome.fasta_file)
        if options["region"]:
            region = parse_region(options["region"], predictor, genome.contig_lengths)
        elif options["gene"]:
            gene = find_gene(predictor, options["gene"])
            region = Interval(gene.chrom, gene.start, gene.end)
        else:
            raise CommandError("give --region, or --gene to centre the window on the gene")
        model, _ = load_model(predictor, None, options["no_rc"])
        window = centred_window(model, region)
        objective = build_objective(options, model, window, predictor, genome.contig_lengths)
        sequence = genome.fetch(window)
        result = saliency(model, one_hot(sequence), objective)
        first, last = peak_window(result.contribution, FOCUSED_ISM_BP)
        np.savez(
            options["out"],
            gradient=result.gradient,
            contribution=result.contribution,
            chrom=window.chrom,
            window_start=window.start,
            objective=objective.description,
            objective_value=result.objective,
            model=predictor.name,
            focused_ism_start=window.start + first,
            focused_ism_end=window.start + last,
        )
        if options["bigwig"]:
            _write_contribution(options["bigwig"], genome, window, result.contribution)
        self.stdout.write(
            self.style.SUCCESS(
                f"saliency over {window.to_ucsc()} -> {options['out']}\n"
                f"focused ISM: {window.chrom}:{window.start + first + 1:,}-{window.start + last:,}"
            )
        )


def _write_contribution(path: Path, genome, window, contribution) -> None:
    """One value per base (bases off the contig's ends are left out)."""
    from genomeweb.genomics.bigwig import write_bigwig

    write_bigwig(path, genome.contig_lengths, [(window, contribution)], bin_size=1)
