from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from genomeweb.catalog.cards import SCORERS, read_card
from genomeweb.catalog.models import Gene, Genome, ObservedTrack, Predictor
from genomeweb.catalog.tracks import search_tracks
from genomeweb.results.views import ranged_file_response
from genomeweb.variants.backgrounds import calibration_summary

SEARCH_LIMIT = 25
TRACK_LIMIT = 100


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


@login_required
def models(request: HttpRequest) -> HttpResponse:
    predictors = Predictor.objects.select_related("genome").annotate(track_count=Count("tracks"))
    return render(request, "catalog/models.html", {"predictors": predictors})


@login_required
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    predictor = get_object_or_404(Predictor.objects.select_related("genome"), name=name)
    query, assay = request.GET.get("q", ""), request.GET.get("assay", "")
    tracks = search_tracks(predictor.tracks.select_related("observed"), query)
    if assay:
        tracks = tracks.filter(assay=assay)
    assays = predictor.tracks.values("assay").annotate(n=Count("id")).order_by("-n")
    context = {
        "predictor": predictor,
        "query": query,
        "assay": assay,
        "assays": assays,
        "tracks": tracks[:TRACK_LIMIT],
        "matches": tracks.count(),
    }
    if request.htmx:
        return render(request, "catalog/model_detail.html#tracks", context)
    card = {
        "card": read_card(predictor),
        "scorers": SCORERS,
        "calibration": calibration_summary(predictor),
    }
    return render(request, "catalog/model_detail.html", context | card)


@login_required
def genome_file(request: HttpRequest, name: str, filename: str) -> HttpResponse:
    """The genome's FASTA and its indexes, by byte range, for the genome browser."""
    genome = get_object_or_404(Genome, name=name)
    fasta = genome.fasta_file
    files = {
        fasta.name: fasta,
        f"{fasta.name}.fai": Path(f"{fasta}.fai"),
        f"{fasta.name}.gzi": Path(f"{fasta}.gzi"),
    }
    path = files.get(filename)
    if path is None or not path.is_file():
        raise Http404("not found")
    return ranged_file_response(request, path, "application/octet-stream")


@login_required
def observed_file(request: HttpRequest, name: str, pk: int, filename: str) -> HttpResponse:
    observed = get_object_or_404(ObservedTrack, genome__name=name, pk=pk)
    if filename != observed.file.name or not observed.file.is_file():
        raise Http404("not found")
    return ranged_file_response(request, observed.file, "application/octet-stream")
