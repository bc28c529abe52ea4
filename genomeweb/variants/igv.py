"""igv.js configuration for a variant page: everything served by this app, nothing external.

Per chosen track: one merged panel with the observed coverage (when the model track is paired
with an observed bigWig), the predicted reference and the predicted alternative; then the
alt − ref difference. Genes come inline from the catalog; the variant is a region of interest.
"""

from django.urls import reverse

from genomeweb.catalog.igv import gene_track, reference
from genomeweb.catalog.models import Genome, PredictorTrack
from genomeweb.jobs.models import Job
from genomeweb.variants.models import VariantEffect

COLORS = {
    "observed": "rgb(120,120,120)",
    "ref": "rgb(31,111,235)",
    "alt": "rgb(207,34,46)",
    "delta": "rgb(130,80,223)",
}


def _wig(name: str, url: str, color: str, group: str) -> dict:
    return {
        "name": name,
        "type": "wig",
        "format": "bigwig",
        "url": url,
        "color": color,
        "autoscaleGroup": group,
    }


def coverage_tracks(
    tracks_job: Job, model_tracks: dict[str, PredictorTrack], alt_name: str = "alt"
) -> list[dict]:
    """Merged observed / ref / alt panels and an alt − ref panel per predicted track (files
    ``ref.<track>.bw``, ``alt.<track>.bw``, ``delta.<track>.bw``); ``alt_name`` labels the
    alternative ("edited" for a design)."""
    names = {"ref": "ref", "alt": alt_name}
    files = {
        a.name: reverse("gw-artifact-named", args=[a.code, a.name])
        for a in tracks_job.artifacts.all()
    }
    panels = []
    for ident in tracks_job.summary.get("tracks", []):
        layers = []
        observed = model_tracks[ident].observed if ident in model_tracks else None
        if observed is not None:
            url = reverse(
                "gw-observed-file", args=[observed.genome.name, observed.pk, observed.file.name]
            )
            layers.append(_wig(f"observed {observed.name}", url, COLORS["observed"], ident))
        layers += [
            _wig(
                f"predicted {names[label]} {ident}",
                files[f"{label}.{ident}.bw"],
                COLORS[label],
                ident,
            )
            for label in ("ref", "alt")
        ]
        panels.append({"name": ident, "type": "merged", "tracks": layers, "height": 90})
        delta_name = f"{alt_name} − ref {ident}"
        delta = _wig(delta_name, files[f"delta.{ident}.bw"], COLORS["delta"], "")
        panels.append(delta | {"autoscaleGroup": None, "height": 50})
    return panels


def browser_config(
    effect: VariantEffect,
    tracks_job: Job | None,
    genome: Genome,
    model_tracks: dict[str, PredictorTrack],
) -> dict:
    variant = effect.variant
    summary = tracks_job.summary if tracks_job else {}
    start = summary.get("start", variant.start - 2_000)
    end = summary.get("end", variant.start + 2_000)
    tracks = [gene_track(genome, variant.chrom, start, end)]
    if tracks_job is not None:
        tracks += coverage_tracks(tracks_job, model_tracks)
    return {
        "reference": reference(genome),
        "locus": f"{variant.chrom}:{start + 1}-{end}",
        "tracks": tracks,
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
