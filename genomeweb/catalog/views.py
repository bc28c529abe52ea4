from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from genomeweb.catalog.models import Gene, Genome

SEARCH_LIMIT = 25


def search_genes(genome: Genome, query: str) -> QuerySet[Gene]:
    """Genes whose name or ID matches ``query``: exact matches first, then prefixes, then
    substrings, so typing "GAL" lists GAL1..GAL80 before genes that merely contain it."""
    query = query.strip()
    if not query:
        return Gene.objects.none()
    matching = Q(name__icontains=query) | Q(gene_id__icontains=query)
    rank = Case(
        When(Q(name__iexact=query) | Q(gene_id__iexact=query), then=Value(0)),
        When(Q(name__istartswith=query) | Q(gene_id__istartswith=query), then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return genome.genes.filter(matching).annotate(rank=rank).order_by("rank", "name")


@login_required
def genomes(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/genomes.html", {"genomes": Genome.objects.all()})


@login_required
def genome_detail(request: HttpRequest, name: str) -> HttpResponse:
    genome = get_object_or_404(Genome, name=name)
    query = request.GET.get("q", "")
    context = {
        "genome": genome,
        "query": query,
        "contigs": genome.contigs.all(),
        "genes": search_genes(genome, query)[:SEARCH_LIMIT],
        "gene_count": genome.genes.count(),
    }
    if request.htmx:
        return render(request, "catalog/genome_detail.html#results", context)
    return render(request, "catalog/genome_detail.html", context)
