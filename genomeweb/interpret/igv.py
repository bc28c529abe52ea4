"""igv.js views of interpretation results: ISM as a 4-row heatmap and letters, saliency as
letters and bars, over the reference and genes. Everything is served by this app."""

import numpy as np
from django.urls import reverse

from genomeweb.catalog.igv import gene_track, reference
from genomeweb.catalog.models import Genome
from genomeweb.jobs.models import Job, JobKind

DYNSEQ_FLANK = 1_000  # letters around the focused stretch (a whole Borzoi window is 524 kb)
BASES = "ACGT"
SEG_SATURATION = 1.5


def browser_config(job: Job, genome: Genome) -> dict:
    files = {a.name: a for a in job.artifacts.all()}
    if job.kind == JobKind.ISM:
        chrom, start, end = job.summary["region"]
        tracks, roi_name = ism_tracks(files), "ISM stretch"
        locus = (chrom, max(start - 20, 0), end + 20)
    elif job.kind == JobKind.ATTENTION:  # arcs are added when a heatmap row is clicked
        chrom, start, end = job.summary["window"]
        tracks, roi_name = [], "model window"
        locus = (chrom, max(start, 0), end)
    else:
        chrom, start, end = job.summary["focused_ism"]
        tracks, roi_name = saliency_tracks(files, chrom, start, end), "focused ISM stretch"
        locus = (chrom, max(start - 300, 0), end + 300)
    return {
        "reference": reference(genome),
        "locus": f"{locus[0]}:{locus[1] + 1}-{locus[2]}",
        "tracks": [gene_track(genome, chrom, start, end), *tracks],
        "loadDefaultGenomes": False,
        "search": False,
        "showSampleNames": True,
        "roi": [
            {
                "name": roi_name,
                "color": "rgba(31,111,235,0.12)",
                "features": [{"chr": chrom, "start": start, "end": end}],
            }
        ],
    }


def _url(artifact) -> str:
    return reverse("gw-artifact-named", args=[artifact.code, artifact.name])


def ism_tracks(files: dict) -> list[dict]:
    """The (L, 4) effects as four heatmap rows (A, C, G, T), and each position's mean effect
    as letters (the reference base, below the axis where mutations lower the objective)."""
    with np.load(files["ism.npz"].path) as saved:
        effects, chrom, start = saved["effects"], str(saved["chrom"]), int(saved["start"])
        reference_bases = "".join(saved["reference"])
    # igv.js paints seg values between ±0.1 white and saturates at ±1.5: scale the largest
    # effect to 1.5 (the track's name gives the factor; letters and table show raw values)
    limit = float(np.abs(effects).max()) or 1.0
    scale = SEG_SATURATION / limit
    features = [
        {
            "chr": chrom,
            "start": start + offset,
            "end": start + offset + 1,
            "value": round(float(effects[offset, column]) * scale, 4),
            "sample": base,
        }
        for column, base in enumerate(BASES)
        for offset in range(len(effects))
    ]
    mutants = np.array([3 if b in BASES else 4 for b in reference_bases])
    mean = effects.sum(axis=1) / mutants
    letters = [
        {"chr": chrom, "start": start + i, "end": start + i + 1, "value": float(v)}
        for i, v in enumerate(mean)
    ]
    return [
        {
            "name": f"ISM: change per substitution (±1.5 = ±{limit:.3g})",
            "type": "seg",
            "format": "seg",
            "features": features,
            "displayMode": "EXPANDED",
            "height": 70,
        },
        {
            "name": "ISM: mean effect at each base",
            "type": "wig",
            "features": letters,
            "graphType": "dynseq",
            "height": 70,
        },
        {
            "name": "ISM mean effect (bigWig)",
            "type": "wig",
            "format": "bigwig",
            "url": _url(files["ism_mean.bw"]),
            "color": "rgb(130,80,223)",
            "height": 40,
        },
    ]


def saliency_tracks(files: dict, chrom: str, start: int, end: int) -> list[dict]:
    """Gradient × input as letters around the focused stretch, and as bars over the window."""
    with np.load(files["saliency.npz"].path) as saved:
        contribution, window_start = saved["contribution"], int(saved["window_start"])
    first = max(start - DYNSEQ_FLANK - window_start, 0)
    last = min(end + DYNSEQ_FLANK - window_start, len(contribution))
    letters = [
        {
            "chr": chrom,
            "start": window_start + i,
            "end": window_start + i + 1,
            "value": float(contribution[i]),
        }
        for i in range(first, last)
        if window_start + i >= 0
    ]
    return [
        {
            "name": "Saliency: gradient × input",
            "type": "wig",
            "features": letters,
            "graphType": "dynseq",
            "height": 80,
        },
        {
            "name": "Saliency over the window (bigWig)",
            "type": "wig",
            "format": "bigwig",
            "url": _url(files["saliency.bw"]),
            "color": "rgb(31,111,235)",
            "height": 40,
        },
    ]
