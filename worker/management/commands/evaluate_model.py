"""``manage.py evaluate_model``: a model card's numbers for any registered model
(``engine.evaluation``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.io.files import merge_json
from worker.management.commands._common import find_predictor, load_model


class Command(BaseCommand):
    help = (
        "Evaluate a registered model on held-out chromosomes: coverage accuracy on the tracks "
        "paired with the genome's observed bigWigs, and the variant-level proxies (motif "
        "recovery in promoters, TATA-box ranks, stability of logSED under a window shift, "
        "window placement and across replicates), each beside a chance or distance-only "
        "baseline. Prints JSON; --card writes it into the model folder's metrics.json."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="the registered model")
        parser.add_argument(
            "--chroms",
            nargs="+",
            help="held-out chromosomes (default: test_chromosomes of the model's metrics.json)",
        )
        parser.add_argument("--promoters", type=int, default=300, help="for motif recovery")
        parser.add_argument("--snvs", type=int, default=2000, help="for the stability measures")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--no-coverage", action="store_true", help="proxies only")
        parser.add_argument("--out", type=Path, help="also write the JSON here")
        parser.add_argument(
            "--card",
            action="store_true",
            help="store the result as 'evaluation' in the first replicate's metrics.json",
        )

    def handle(self, *args, **options) -> None:
        from engine.evaluation.coverage import paired_coverage
        from engine.evaluation.proxies import variant_proxies
        from engine.interpret.motifs import tax_group_for_species
        from engine.io.fasta import Genome
        from engine.models import runtime

        predictor = find_predictor(options["name"])
        folder = Path(predictor.spec()["replicates"][0]["path"])
        chroms = options["chroms"] or _test_chromosomes(folder)
        genome = Genome(predictor.genome.fasta_file)
        unknown = [c for c in chroms if c not in genome.contig_lengths]
        if unknown:
            raise CommandError(f"not contigs of {predictor.genome.name}: {', '.join(unknown)}")
        runtime.use_full_precision()  # bf16 rounding would read as instability
        model, _ = load_model(predictor, None, no_rc=False)
        genes = [row.as_annotation() for row in predictor.genome.genes.all()]
        began = time.monotonic()
        result = {"model": predictor.name, "replicates": len(model.replicates)}
        if not options["no_coverage"]:
            observed = {t.name: t.file for t in predictor.genome.observed_tracks.all()}
            result["coverage"] = paired_coverage(model, genome, observed, chroms)
        result["variant_proxies"] = variant_proxies(
            model,
            genome,
            genes,
            chroms,
            tax_group=tax_group_for_species(predictor.genome.species),
            promoters=options["promoters"],
            snvs=options["snvs"],
            seed=options["seed"],
        )
        result["seconds"] = round(time.monotonic() - began, 1)
        text = json.dumps(result, indent=2)
        if options["out"]:
            options["out"].write_text(text + "\n")
        if options["card"]:
            merge_json(folder / "metrics.json", {"evaluation": result})
        self.stdout.write(text)


def _test_chromosomes(folder: Path) -> list[str]:
    metrics = folder / "metrics.json"
    chroms = json.loads(metrics.read_text()).get("test_chromosomes") if metrics.exists() else None
    if not chroms:
        raise CommandError(
            f"{folder} has no metrics.json naming its test_chromosomes: name held-out "
            "chromosomes with --chroms"
        )
    return chroms
