"""``manage.py saliency``: gradient × input over a model window, through the saliency job's own
pipeline step (``engine.pipeline.saliency.run_saliency``)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.io.intervals import Interval
from worker.management.commands._common import (
    add_objective_arguments,
    build_objective,
    find_gene,
    find_predictor,
    load_model,
    parse_region,
)


class Command(BaseCommand):
    help = (
        "Gradient × input of an objective over a model window centred on --region (or, with "
        "--gene and no --region, on the gene), gradient mean-centred over A, C, G, T; writes "
        "an npz (the saliency job's), and with --bigwig the per-base contribution as a bigWig."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True)
        parser.add_argument("--region", help="the window's centre: chrom:start-end, 1-based")
        parser.add_argument("--out", required=True, type=Path, help="the .npz to write")
        parser.add_argument("--bigwig", type=Path, help="also write the contribution here")
        add_objective_arguments(parser)

    def handle(self, *args, **options) -> None:
        from engine.interpret.objectives import centred_window
        from engine.io.fasta import Genome
        from engine.pipeline.saliency import run_saliency

        predictor = find_predictor(options["model"])
        genome = Genome(predictor.genome.fasta_file)
        try:
            contigs = dict(genome.contig_lengths)
        finally:
            genome.close()
        region = self._region(options, predictor, contigs)
        model, _ = load_model(predictor, None, options["no_rc"])
        window = centred_window(model, region)
        objective = build_objective(options, model, window, predictor, contigs)
        out: Path = options["out"]
        with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
            output = run_saliency(
                model,
                predictor.genome.fasta_file,
                window,
                objective,
                Path(scratch),
                motif_matrices=predictor.genome.motif_matrices(),
            )
            shutil.move(Path(scratch) / "saliency.npz", out)
            if options["bigwig"]:
                shutil.move(Path(scratch) / "saliency.bw", options["bigwig"])
        chrom, first, last = output.summary["focused_ism"]
        self.stdout.write(
            self.style.SUCCESS(
                f"saliency over {window.to_ucsc()} -> {out}\n"
                f"focused ISM: {chrom}:{first + 1:,}-{last:,}"
            )
        )

    def _region(self, options: dict, predictor, contigs: dict[str, int]) -> Interval:
        if options["region"]:
            return parse_region(options["region"], predictor, contigs)
        if options["gene"]:
            gene = find_gene(predictor, options["gene"])
            return Interval(gene.chrom, gene.start, gene.end)
        raise CommandError("give --region, or --gene to centre the window on the gene")
