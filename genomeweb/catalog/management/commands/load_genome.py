from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomeweb.catalog.loading import load_genome


class Command(BaseCommand):
    help = "Register a reference genome (FASTA with .fai; bgzip needs .gzi too) and its genes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="short name, e.g. sacCer3")
        parser.add_argument("--fasta", required=True, type=Path)
        parser.add_argument("--annotation", type=Path, help="GFF3 or GTF, plain or gzip")
        parser.add_argument("--species", default="")
        parser.add_argument("--description", default="")

    def handle(self, *args, **options) -> None:
        for key in ("fasta", "annotation"):
            if options[key] and not options[key].is_file():
                raise CommandError(f"{key} file not found: {options[key]}")
        try:
            genome = load_genome(
                options["name"],
                options["fasta"],
                options["annotation"],
                species=options["species"],
                description=options["description"],
            )
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{genome.name}: {genome.contigs.count()} contigs, {genome.genes.count()} genes"
            )
        )
