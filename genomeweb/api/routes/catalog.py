"""The shared catalogue: genomes, models and their tracks (any token may read it)."""

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest
from ninja import Path, Query, Router, Status

from genomeweb.api.output import page_info
from genomeweb.api.schemas import GenomeOut, ModelOut, Slug, TrackPage, TrackQuery, errors
from genomeweb.catalog.models import Genome, Predictor
from genomeweb.catalog.tracks import search_tracks

router = Router(tags=["catalog"])
TRACK_PAGE_SIZE = 100
TRACK_FIELDS = ("index", "identifier", "description", "assay", "sample", "strand")


@router.get("/genomes", response={200: list[GenomeOut], **errors(401)})
def list_genomes(request: HttpRequest):
    """Reference genomes a VCF can be uploaded against."""
    return Status(200, list(Genome.objects.values("name", "species", "description")))


@router.get("/models", response={200: list[ModelOut], **errors(401)})
def list_models(request: HttpRequest):
    """Registered models: their genome, input length, bin size and number of tracks."""
    predictors = Predictor.objects.select_related("genome").annotate(track_count=Count("tracks"))
    return Status(200, [_model_out(p) for p in predictors])


def _model_out(predictor: Predictor) -> dict:
    fields = ("name", "architecture", "description", "sequence_length", "bin_size")
    return {name: getattr(predictor, name) for name in fields} | {
        "genome": predictor.genome.name,
        "output_bins": predictor.output_bins,
        "track_count": predictor.track_count,
        "replicates": len(predictor.replicates),
        "reverse_complement_by_default": predictor.reverse_complement_by_default,
        "default_shifts": predictor.default_shifts,
    }


@router.get("/models/{name}/tracks", response={200: TrackPage, **errors(400, 401, 404)})
def list_tracks(request: HttpRequest, name: Path[Slug], query: Query[TrackQuery]):
    """A model's tracks matching every word of ``q`` (and ``assay``), 100 a page."""
    predictor = Predictor.objects.filter(name=name).first()
    if predictor is None:
        raise Http404(f"No model '{name}'.")
    tracks = search_tracks(predictor.tracks.all(), query.q)
    if query.assay:
        tracks = tracks.filter(assay__iexact=query.assay)
    rows = tracks.order_by("index").values(*TRACK_FIELDS)
    found = Paginator(rows, TRACK_PAGE_SIZE).get_page(query.page)
    return Status(200, page_info(found) | {"items": list(found)})
