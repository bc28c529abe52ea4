"""Predicting a design: the job that compares its edited sequence with the reference, and the
igv.js view of the result (reference and edited coverage merged, their difference, the edits as
regions of interest)."""

from engine.io.bigwig import COVERAGE_UNIT
from genomeweb.catalog.igv import gene_track, reference
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job, JobKind
from genomeweb.jobs.submit import submit_once
from genomeweb.variants.igv import coverage_tracks

MAX_TRACKS = 12  # panels in one browser


def default_tracks(design: Design) -> list[str]:
    """All tracks of a small model; otherwise none (the user picks)."""
    tracks = list(design.predictor.tracks.order_by("index").values_list("identifier", flat=True))
    return tracks if len(tracks) <= MAX_TRACKS else []


def submit_prediction(design: Design, user, tracks: list[str]) -> Job:
    """One job per (design, version, tracks); a failed one may be run again. ``unit`` names
    what its bigWigs hold (see ``latest_prediction``)."""
    params = {
        "design": str(design.code),
        "version": design.version,
        "tracks": sorted(tracks),
        "reverse_complement": True,
        "unit": COVERAGE_UNIT,
    }
    return submit_once(
        workspace=design.workspace,
        user=user,
        kind=JobKind.DESIGN_PREDICT,
        params=params,
        key_prefix="design",
    )


def latest_prediction(design: Design) -> Job | None:
    """The newest prediction of the design's current version. Predictions from before the
    bigWigs were written in reads per base lack ``unit`` and are left out: predicting again
    makes a new job rather than finding the old one."""
    return (
        Job.objects.filter(
            workspace=design.workspace,
            kind=JobKind.DESIGN_PREDICT,
            params__design=str(design.code),
            params__version=design.version,
            params__unit=COVERAGE_UNIT,
        )
        .order_by("-created")
        .first()
    )


def browser_config(design: Design, job: Job) -> dict:
    chrom, start, end = job.summary["interval"]
    model_tracks = {
        t.identifier: t for t in design.predictor.tracks.select_related("observed__genome")
    }
    window = design.window
    features = [
        {
            "chr": chrom,
            "start": window.start + edit.start,
            "end": window.start + max(edit.end, edit.start + 1),  # an insertion: its anchor
            "name": edit.label or edit.kind,
        }
        for edit in design.edit_list()
    ]
    return {
        "reference": reference(design.genome),
        "locus": _locus(features, chrom, start, end),
        "tracks": [
            gene_track(design.genome, chrom, start, end),
            *coverage_tracks(job, model_tracks, alt_name="edited"),
        ],
        "loadDefaultGenomes": False,
        "search": False,
        "roi": [{"name": "edits", "color": "rgba(207,34,46,0.25)", "features": features}],
    }


def _locus(features: list[dict], chrom: str, start: int, end: int) -> str:
    """Around the edits (±1.5 kb), or the whole output when there are none."""
    if features:
        first = max(min(f["start"] for f in features) - 1_500, start)
        last = min(max(f["end"] for f in features) + 1_500, end)
        return f"{chrom}:{first + 1}-{last}"
    return f"{chrom}:{start + 1}-{end}"
