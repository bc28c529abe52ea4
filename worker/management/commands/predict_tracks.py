import time
from pathlib import Path

from django.core.management.base import BaseCommand

from worker.management.commands._common import find_predictor, load_model, parse_region


class Command(BaseCommand):
    help = (
        "Predict coverage over a region (a whole contig, or chrom:start-end, 1-based) and "
        "write one bigWig per track, named by track identifier (counts per bin)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True)
        parser.add_argument("--region", required=True, help="XII or XII:100,000-200,000")
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--tracks", nargs="*", help="track identifiers (default: all)")
        parser.add_argument(
            "--no-rc", action="store_true", help="skip reverse-complement averaging"
        )
        parser.add_argument("--batch-size", type=int, default=8)

    def handle(self, *args, **options) -> None:
        from engine.io.fasta import Genome
        from engine.models.regions import aligned, predict_region, write_track_bigwigs

        predictor = find_predictor(options["model"])
        genome = Genome(predictor.genome.fasta_file)
        region = parse_region(options["region"], predictor, genome.contig_lengths)
        interval = aligned(region, predictor.bin_size, genome.contig_lengths[region.chrom])
        model, tracks = load_model(predictor, options["tracks"], options["no_rc"])
        columns = tracks if tracks is not None else list(range(len(model.tracks)))
        identifiers = [model.tracks.tracks[i].identifier for i in columns]
        began = time.monotonic()
        values = predict_region(model, genome, interval, columns, options["batch_size"])
        paths = write_track_bigwigs(
            options["out"], genome, interval, values, identifiers, model.bin_size
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(paths)} bigWigs over {interval.to_ucsc()} ({values.shape[0]} bins of "
                f"{model.bin_size} bp) in {time.monotonic() - began:.1f} s -> {options['out']}"
            )
        )
