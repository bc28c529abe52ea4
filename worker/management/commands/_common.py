"""What the model commands share: finding the model, reading regions and genes, objectives."""

from __future__ import annotations

from django.core.management.base import CommandError

from engine.io.annotation import Gene
from engine.io.intervals import Interval
from genomeweb.catalog.models import Gene as GeneRow
from genomeweb.catalog.models import Predictor


def find_predictor(name: str) -> Predictor:
    predictor = Predictor.objects.filter(name=name).select_related("genome").first()
    if predictor is None:
        raise CommandError(f"no model '{name}' (see register_model, load_demo)")
    return predictor


def load_model(
    predictor: Predictor,
    identifiers: list[str] | None,
    no_rc: bool,
    shifts: tuple[int, ...] | None = (0,),
):
    """The model as an Ensemble (``shifts`` None: the model's default shifts), and the track
    indices asked for (None: all)."""
    from engine.errors import InputError
    from engine.models import runtime

    try:
        model = runtime.ensemble(predictor.spec(), reverse_complement=not no_rc, shifts=shifts)
        tracks = model.tracks.indices(identifiers) if identifiers else None
    except (InputError, KeyError) as error:
        raise CommandError(str(error).strip("'\"")) from error
    return model, tracks


def parse_region(text: str, predictor: Predictor, contig_lengths: dict[str, int]) -> Interval:
    """``XII`` (the whole contig) or ``XII:100,001-100,192`` (1-based, inclusive), any alias of
    the contig's name; 0-based half-open inside the genome."""
    resolver = predictor.genome.contig_resolver()
    chrom_text, _, span = text.partition(":")
    chrom = resolver.resolve(chrom_text)
    if chrom is None:
        raise CommandError(f"contig '{chrom_text}' is not in {predictor.genome.name}")
    length = contig_lengths[chrom]
    try:
        interval = Interval.parse(f"{chrom}:{span}") if span else Interval(chrom, 0, length)
    except ValueError as error:
        raise CommandError(str(error)) from error
    if interval.end > length:
        raise CommandError(f"{text} runs past the end of {chrom} ({length:,} bp)")
    return interval


def find_gene(predictor: Predictor, name: str) -> Gene:
    """A gene of the model's genome by name or id, in any case."""
    row = GeneRow.objects.named(predictor.genome, name)
    if row is None:
        raise CommandError(f"no gene '{name}' in {predictor.genome.name}")
    return row.as_annotation()


def add_objective_arguments(parser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--track", nargs="+", help="track identifiers, averaged")
    target.add_argument(
        "--gene", help="a gene: its strand-matched tracks over its exons or start window"
    )
    parser.add_argument(
        "--objective-region",
        help="with --track: sum the bins over this region (chrom:start-end, 1-based) instead of "
        "every output bin",
    )
    parser.add_argument("--linear", action="store_true", help="sum, not log2(1 + sum)")
    parser.add_argument("--no-rc", action="store_true", help="skip reverse-complement averaging")


def build_objective(options: dict, model, window: Interval, predictor: Predictor, contigs):
    from engine.interpret.objectives import gene_objective, track_objective

    log = not options["linear"]
    try:
        if options["gene"]:
            gene = find_gene(predictor, options["gene"])
            return gene_objective(model, window, gene, log=log)
        tracks = model.tracks.indices(options["track"])
        over = options["objective_region"]
        over = parse_region(over, predictor, contigs) if over else None
        return track_objective(model, window, tracks, over, log=log)
    except (KeyError, ValueError) as error:
        raise CommandError(str(error).strip("'\"")) from error
