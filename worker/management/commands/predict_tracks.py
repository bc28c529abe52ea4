import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomeweb.catalog.models import Predictor
from genomeweb.genomics.intervals import Interval


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
        from genomeweb.genomics.fasta import Genome
        from worker import runtime
        from worker.errors import JobInputError
        from worker.predict import predict_region, write_track_bigwigs

        predictor = Predictor.objects.filter(name=options["model"]).first()
        if predictor is None:
            raise CommandError(f"no model '{options['model']}' (see register_model, load_demo)")
        genome = Genome(predictor.genome.fasta_file)
        interval = self._region(options["region"], predictor, genome)
        try:
            model = runtime.ensemble(predictor.spec(), reverse_complement=not options["no_rc"])
            identifiers = options["tracks"] or [t.identifier for t in model.tracks.tracks]
            columns = model.tracks.indices(identifiers)
        except (JobInputError, KeyError) as error:
            raise CommandError(str(error)) from error
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

    def _region(self, text: str, predictor: Predictor, genome) -> Interval:
        from worker.predict import aligned

        resolver = predictor.genome.contig_resolver()
        chrom_text, _, span = text.partition(":")
        chrom = resolver.resolve(chrom_text)
        if chrom is None:
            raise CommandError(f"contig '{chrom_text}' is not in {predictor.genome.name}")
        length = genome.contig_lengths[chrom]
        try:
            interval = Interval.parse(f"{chrom}:{span}") if span else Interval(chrom, 0, length)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if interval.end > length:
            raise CommandError(f"{text} runs past the end of {chrom} ({length:,} bp)")
        return aligned(interval, predictor.bin_size, length)
