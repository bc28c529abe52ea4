from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomeweb.catalog.models import Architecture, Genome
from genomeweb.catalog.registration import (
    GEOMETRY,
    borzoi_targets_path,
    register_predictor,
    yeast_geometry_and_tracks,
)
from genomeweb.catalog.tracks import read_targets


class Command(BaseCommand):
    help = (
        "Register a local checkpoint as a model. Each --weights folder is one replicate (fold) "
        "holding config.json and model.safetensors (or pytorch_model.bin); nothing is downloaded."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="short name, e.g. borzoi-human")
        parser.add_argument("--architecture", required=True, choices=Architecture.values)
        parser.add_argument("--weights", required=True, nargs="+", type=Path)
        parser.add_argument("--genome", required=True, help="a genome loaded with load_genome")
        parser.add_argument(
            "--targets",
            type=Path,
            help="track table (Borzoi targets.txt layout); Borzoi and Flashzoi "
            "default to the human table shipped in borzoi-pytorch",
        )
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--shifts",
            type=int,
            nargs="+",
            help="input shifts (bp) jobs average over by default; default: the config.json's "
            "default_shifts, else 0",
        )

    def handle(self, *args, **options) -> None:
        genome = Genome.objects.filter(name=options["genome"]).first()
        if genome is None:
            raise CommandError(f"no genome '{options['genome']}': load it with load_genome first")
        try:
            geometry, tracks = self._geometry_and_tracks(options)
            predictor = register_predictor(
                name=options["name"],
                architecture=options["architecture"],
                genome=genome,
                directories=options["weights"],
                tracks=tracks,
                geometry=geometry,
                description=options["description"],
                default_shifts=sorted(set(options["shifts"])) if options["shifts"] else None,
            )
        except (ValueError, OSError, KeyError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{predictor.name}: {predictor.get_architecture_display()}, "
                f"{len(predictor.replicates)} replicate(s), {predictor.tracks.count()} tracks"
            )
        )

    def _geometry_and_tracks(self, options):
        architecture = options["architecture"]
        if architecture == Architecture.YEAST:
            return yeast_geometry_and_tracks(options["weights"][0])
        targets = options["targets"]
        if targets is None and architecture in (Architecture.BORZOI, Architecture.FLASHZOI):
            targets = borzoi_targets_path()
        if targets is None:
            raise ValueError("pass --targets with the model's track table")
        return GEOMETRY[architecture], read_targets(targets)
