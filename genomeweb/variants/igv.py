"""igv.js configuration for a variant page: everything served by this app, nothing external.

Per chosen track: one merged panel with the observed coverage (when the model track is paired
with an observed bigWig), the predicted reference and the predicted alternative; then the
alt − ref difference. Genes come inline from the catalog; the variant is a region of interest.

Units: every coverage track is in reads per base (``UNIT``). Observed bigWigs are served as
stored (reads at each base); the worker writes predictions, which are reads per model bin, as
the bin's value ÷ the bin width over each of its bases (engine.pipeline.tracks.per_base), so a
panel's one autoscaled axis compares like with like. The unit is in every track's name.

Before any prediction the page shows the observed panels alone (no job needed); the merged
panels that replace them when the prediction is ready carry the same names, so the browser
swaps them by name (static/js/variant_browser.js).
"""

from django.urls import reverse

from engine.io.bigwig import COVERAGE_UNIT
from genomeweb.catalog.igv import gene_track, reference
from genomeweb.catalog.models import Genome, PredictorTrack
from genomeweb.jobs.models import Job, JobStatus
from genomeweb.variants.models import VariantEffect

UNIT = COVERAGE_UNIT
COLORS = {
    "observed": "rgb(120,120,120)",
    "ref": "rgb(31,111,235)",
    "alt": "rgb(207,34,46)",
    "delta": "rgb(130,80,223)",
}
FLANK_BP = 2_000  # shown on each side of the variant


def legend(alt_name: str = "alternative") -> list[dict]:
    """What each colour of the coverage panels means, for the page beside the browser."""
    return [
        {"color": COLORS["observed"], "label": "observed"},
        {"color": COLORS["ref"], "label": "predicted reference"},
        {"color": COLORS["alt"], "label": f"predicted {alt_name}"},
        {"color": COLORS["delta"], "label": f"{_short(alt_name)} − ref (predicted difference)"},
    ]


def _short(alt_name: str) -> str:
    return "alt" if alt_name == "alternative" else alt_name


def panel_name(ident: str) -> str:
    return f"{ident} ({UNIT})"


def _wig(name: str, url: str, color: str, group: str) -> dict:
    return {
        "name": f"{name} ({UNIT})",
        "type": "wig",
        "format": "bigwig",
        "url": url,
        "color": color,
        "autoscaleGroup": group,
    }


def _observed_layer(ident: str, model_tracks: dict[str, PredictorTrack]) -> dict | None:
    observed = model_tracks[ident].observed if ident in model_tracks else None
    if observed is None:
        return None
    url = reverse("gw-observed-file", args=[observed.genome.name, observed.pk, observed.file.name])
    return _wig(f"observed {observed.name}", url, COLORS["observed"], ident)


def observed_tracks(chosen: list[str], model_tracks: dict[str, PredictorTrack]) -> list[dict]:
    """A panel of observed coverage per chosen track that has observed data: the page's first
    paint, before (or without) any prediction."""
    panels = []
    for ident in chosen:
        layer = _observed_layer(ident, model_tracks)
        if layer is not None:
            panels.append(
                {"name": panel_name(ident), "type": "merged", "tracks": [layer], "height": 90}
            )
    return panels


def coverage_tracks(
    tracks_job: Job, model_tracks: dict[str, PredictorTrack], alt_name: str = "alternative"
) -> list[dict]:
    """Merged observed / ref / alt panels and an alt − ref panel per predicted track (files
    ``ref.<track>.bw``, ``alt.<track>.bw``, ``delta.<track>.bw``); ``alt_name`` labels the
    alternative ("edited" for a design)."""
    names = {"ref": "reference", "alt": alt_name}
    files = {
        a.name: reverse("gw-artifact-named", args=[a.code, a.name])
        for a in tracks_job.artifacts.all()
    }
    panels = []
    for ident in tracks_job.summary.get("tracks", []):
        observed = _observed_layer(ident, model_tracks)
        layers = [observed] if observed else []
        layers += [
            _wig(
                f"predicted {names[label]} {ident}",
                files[f"{label}.{ident}.bw"],
                COLORS[label],
                ident,
            )
            for label in ("ref", "alt")
        ]
        panels.append({"name": panel_name(ident), "type": "merged", "tracks": layers, "height": 90})
        delta_name = f"{_short(alt_name)} − ref {ident}"
        delta = _wig(delta_name, files[f"delta.{ident}.bw"], COLORS["delta"], "")
        panels.append(delta | {"autoscaleGroup": None, "height": 50})
    return panels


def variant_panels(
    chosen: list[str], tracks_job: Job | None, model_tracks: dict[str, PredictorTrack]
) -> list[dict]:
    """The coverage panels of a variant page: predicted ones once its tracks job succeeded,
    else the observed coverage alone."""
    if tracks_job is not None and tracks_job.status == JobStatus.SUCCEEDED:
        return coverage_tracks(tracks_job, model_tracks)
    return observed_tracks(chosen, model_tracks)


def browser_config(effect: VariantEffect, genome: Genome, panels: list[dict]) -> dict:
    variant = effect.variant
    start, end = max(variant.start - FLANK_BP, 0), variant.start + FLANK_BP
    return {
        "reference": reference(genome),
        "locus": f"{variant.chrom}:{start + 1}-{end}",
        "tracks": [gene_track(genome, variant.chrom, start, end), *panels],
        "loadDefaultGenomes": False,
        "search": False,
        "showSampleNames": True,
        "roi": [
            {
                "name": str(variant),
                "color": "rgba(207,34,46,0.25)",
                "features": [
                    {
                        "chr": variant.chrom,
                        "start": variant.start,
                        "end": variant.start + max(len(variant.ref), 1),
                    }
                ],
            }
        ],
    }
