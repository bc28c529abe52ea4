"""Finding variants by what a person typed (parsed by ``genomeweb.variants.search``): contig
aliases resolved against the genome, ORM conditions, and a sentence that says why nothing was
found. The results table, the API and the workspace search all go through here."""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from engine.io.intervals import Interval
from genomeweb.catalog.models import Gene, Genome
from genomeweb.jobs.models import JobStatus
from genomeweb.variants.models import Variant
from genomeweb.variants.search import SearchKind, SearchQuery, parse_search

# The workspace search lists this many variants (and says how many more there are).
SEARCH_LIMIT = 100
# A gene name finds the variants in the gene and this close to it: yeast promoters and
# terminators are mostly within 1 kb, and a variant there is what a person searching means.
GENE_FLANK = 1_000
_CONTIGS_SHOWN = 12


def resolve_contig(chrom: str, genome: Genome) -> str:
    """The genome's own name for a typed contig ("chrII" -> "II").

    Raises:
        ValueError: the genome has no such contig; the message lists the ones it has.
    """
    resolved = genome.contig_resolver().resolve(chrom)
    if resolved is None:
        raise _unknown_contig(chrom, genome)
    return resolved


def _unknown_contig(chrom: str, genome: Genome) -> ValueError:
    names = list(genome.contigs.values_list("name", flat=True)[: _CONTIGS_SHOWN + 1])
    shown = ", ".join(names[:_CONTIGS_SHOWN]) + (", …" if len(names) > _CONTIGS_SHOWN else "")
    return ValueError(f"{chrom} is not a contig of {genome.name} (contigs: {shown})")


def resolve(query: SearchQuery, genome: Genome | None) -> SearchQuery:
    """``query`` on the genome's spelling of its contig; a NAME that is a contig's becomes CONTIG.
    Without a genome, contigs stay as typed.

    Raises:
        ValueError: coordinates on a contig the genome does not have (as ``resolve_contig``).
    """
    if genome is None:
        return query
    if query.kind == SearchKind.NAME:
        return _as_contig(query.text, genome) or query
    if query.interval is None:
        return query
    return query.on_contig(resolve_contig(query.interval.chrom, genome))


def _as_contig(text: str, genome: Genome) -> SearchQuery | None:
    chrom = genome.contig_resolver().resolve(text)
    contig = genome.contigs.filter(name=chrom).first() if chrom else None
    if contig is None:
        return None
    return SearchQuery(SearchKind.CONTIG, text, Interval(contig.name, 0, contig.length))


def parse_region(text: str, genome: Genome | None) -> SearchQuery:
    """The region filter's text: a region, one position or a whole contig, resolved.

    Raises:
        ValueError: not one of those, or a contig the genome does not have.
    """
    query = parse_search(text)
    if query.kind == SearchKind.NAME:
        if genome is None:  # nothing to resolve against: the contig as typed
            return SearchQuery(SearchKind.CONTIG, query.text, Interval(query.text, 0, 0))
        contig = _as_contig(query.text, genome)
        if contig is None:
            raise _unknown_contig(query.text, genome)
        return contig
    if query.kind not in (SearchKind.REGION, SearchKind.POSITION):
        raise ValueError(f"'{text}' is not a region like II:1,000-2,000 or a contig like II")
    return resolve(query, genome)


def search_condition(query: SearchQuery, *, via: str = "") -> Q:
    """The variants a resolved search finds, genes aside (callers add their own gene rule).

    A variant whose ID is the text as typed is found whatever the text looks like ("1:100:A:G"
    is a common style of ID). ``via``: the path to the Variant from the rows filtered
    ("variant" from a VariantEffect; "" from a Variant).
    """
    found = has_ident(query.text, _path(via, "ident"))
    if query.interval is None:
        return found
    return found | location_condition(query, via=via)


def location_condition(query: SearchQuery, *, via: str = "") -> Q:
    """The variants at a resolved query's coordinates (a region holds those that start in it)."""
    interval = query.interval
    if interval is None:
        raise ValueError(f"{query.kind} queries have no coordinates")
    at = {_path(via, "chrom"): interval.chrom}
    if query.kind == SearchKind.ALLELE:
        at |= {
            _path(via, "start"): interval.start,
            _path(via, "ref"): query.ref,
            _path(via, "alt"): query.alt,
        }
    elif query.kind == SearchKind.POSITION:
        at[_path(via, "start")] = interval.start
    elif query.kind == SearchKind.REGION:
        at |= {_path(via, "start__gte"): interval.start, _path(via, "start__lt"): interval.end}
    return Q(**at)


def _path(via: str, name: str) -> str:
    return f"{via}__{name}" if via else name


def has_ident(text: str, ident: str = "ident") -> Q:
    """The ID is ``text`` (any case), alone or in a VCF list of IDs ("rs1;GAL10_up40").

    A list holds a ";": saying so lets PostgreSQL look lists up in the small partial index of
    the IDs that hold one (Variant.Meta), and the ID alone in the (upper(ident)) index, where
    the LIKEs alone would read every variant.
    """
    listed = (
        Q(**{f"{ident}__istartswith": f"{text};"})
        | Q(**{f"{ident}__iendswith": f";{text}"})
        | Q(**{f"{ident}__icontains": f";{text};"})
    )
    return Q(**{f"{ident}__iexact": text}) | (Q(**{f"{ident}__contains": ";"}) & listed)


def nothing_found(query: SearchQuery, scope: str, variants: QuerySet, *, genes: str) -> str:
    """Why a search of ``scope`` ("this job") found nothing, in a sentence.

    Args:
        query: the resolved query.
        variants: the scope's variants, to name the other alleles at a position.
        genes: what the gene part of the search found, for NAME queries ("no gene GAL10 was
            scored in it").
    """
    described = query.describe()
    if query.kind == SearchKind.RSID:
        return f"No variant with ID {described} in {scope}."
    if query.kind == SearchKind.NAME:
        return f"No variant with ID {described} in {scope}, and {genes}."
    if query.kind == SearchKind.CONTIG:
        return f"No allele of {scope} lies on {described}."
    if query.kind == SearchKind.POSITION:
        return f"No allele of {scope} lies at {described}."
    if query.kind == SearchKind.REGION:
        return f"No allele of {scope} lies in {described}."
    others = _alleles_at(variants, query.interval)
    there = f" (at {query.interval.chrom}:{query.interval.start + 1:,}: {others})" if others else ""
    return f"No allele {described} in {scope}{there}."


def _alleles_at(variants: QuerySet, interval: Interval) -> str:
    found = variants.filter(chrom=interval.chrom, start=interval.start).values_list("ref", "alt")
    return ", ".join(sorted({f"{ref}>{alt}" for ref, alt in found[:20]}))


# --- the workspace search ---------------------------------------------------------------------


@dataclass
class WorkspaceSearch:
    """What the workspace's search box found: the first SEARCH_LIMIT variants of ``count``."""

    text: str
    variants: list[Variant] = field(default_factory=list)
    count: int = 0
    genes: list[Gene] = field(default_factory=list)  # genes a NAME query named
    error: str = ""  # the text cannot be searched (unknown contig, impossible coordinates)
    empty_reason: str = ""

    @property
    def more(self) -> int:
        return self.count - len(self.variants)


def search_workspace(workspace, text: str) -> WorkspaceSearch:
    """The variants of all the workspace's sets that ``text`` finds, on each set's genome."""
    result = WorkspaceSearch(text=" ".join(text.split()))
    try:
        query = parse_search(text)
    except ValueError as error:
        result.error = str(error)
        return result
    if query.kind == SearchKind.EMPTY:
        return result
    resolved, condition = _on_each_genome(query, workspace, result)
    if result.error:
        return result
    # A set still being validated may hold part of its rows (SQLite stores them in batches):
    # only finished validations are searched.
    unfinished = [status for status in JobStatus if status != JobStatus.SUCCEEDED]
    rows = Variant.objects.filter(variant_set__workspace=workspace).exclude(
        variant_set__validation_job__status__in=unfinished
    )
    found = rows.filter(condition) if condition is not None else rows.none()
    result.count = found.count()
    ordered = found.select_related("variant_set").order_by("-variant_set__created", "index")
    result.variants = list(ordered[:SEARCH_LIMIT])
    if not result.count:
        genes = _genes_phrase(query, result.genes)
        result.empty_reason = nothing_found(resolved, "this workspace", rows, genes=genes)
    return result


def _on_each_genome(
    query: SearchQuery, workspace, result: WorkspaceSearch
) -> tuple[SearchQuery, Q | None]:
    """The query resolved (on the first genome that has its contig) and what it finds in each
    of the workspace's genomes' sets. Sets a ``result.error`` when no genome has the contig."""
    first, condition, errors = query, None, []
    for genome in Genome.objects.filter(variant_sets__workspace=workspace).distinct():
        try:
            resolved = resolve(query, genome)
        except ValueError as error:  # this genome lacks the typed contig; another may have it
            errors.append(str(error))
            continue
        found = Q(variant_set__genome=genome) & _found_in(resolved, genome, result)
        first, condition = (resolved, found) if condition is None else (first, condition | found)
    if errors and condition is None:
        result.error = "; ".join(errors)
    return first, condition


def _found_in(query: SearchQuery, genome: Genome, result: WorkspaceSearch) -> Q:
    """What a resolved query finds among one genome's variants; a gene it names (kept in
    ``result``) finds the variants in and near it."""
    found = search_condition(query)
    if query.kind not in (SearchKind.NAME, SearchKind.CONTIG):
        return found
    gene = Gene.objects.named(genome, query.text)
    if gene is None:
        return found
    result.genes.append(gene)
    return found | Q(
        chrom=gene.chrom,
        start__gte=max(0, gene.start - GENE_FLANK),
        start__lt=gene.end + GENE_FLANK,
    )


def _genes_phrase(query: SearchQuery, genes: list[Gene]) -> str:
    if not genes:
        return f"no gene is named {query.describe()} in its genomes"
    names = ", ".join(f"{g} ({Interval(g.chrom, g.start, g.end).readable()})" for g in genes)
    return f"none lies in or within {GENE_FLANK:,} bp of the gene {names}"
