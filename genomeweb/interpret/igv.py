"""igv.js views of interpretation results: ISM as a 4-row heatmap and letters, saliency as
letters and bars, over the reference and genes. Everything is served by this app."""

import numpy as np
from django.urls import reverse

from engine.interpret.ism_rules import BASES, mean_substitution_effect
from engine.io.annotation import Gene as AnnotatedGene
from genomeweb.catalog.igv import gene_track
from genomeweb.catalog.igv import reference as reference_track
from genomeweb.catalog.models import Gene, Genome
from genomeweb.jobs.models import Job, JobKind

DYNSEQ_FLANK = 1_000  # letters around the focused stretch (a whole Borzoi window is 524 kb)
SEG_SATURATION = 1.5
# A gene's saliency opens on its promoter: bp before its start and into it, on its strand.
GENE_START_VIEW = (600, 200)


def browser_config(job: Job, genome: Genome, gene: AnnotatedGene | None = None) -> dict:
    """``gene``: the objective's gene, where a saliency result opens (its promoter)."""
    files = {a.name: a for a in job.artifacts.all()}
    if job.kind == JobKind.ISM:
        chrom, start, end = job.summary["region"]
        tracks = [*motif_track(job), *ism_tracks(files, log=job.params.get("log", True))]
        roi_name = "ISM stretch"
        locus = (chrom, max(start - 20, 0), end + 20)
    elif job.kind == JobKind.ATTENTION:  # arcs are added when a heatmap row is clicked
        chrom, start, end = job.summary["window"]
        tracks, roi_name = [], "model window"
        locus = (chrom, max(start, 0), end)
    else:
        chrom, start, end = job.summary["focused_ism"]
        if gene is not None and gene.chrom == chrom:
            # the gene's promoter, not wherever the gradient peaked (its 3′ end, at times);
            # the peak stays marked, and its letters are drawn if it lies near
            locus = (chrom, *gene_start_locus(gene))
        else:
            locus = (chrom, max(start - 300, 0), end + 300)
        letters = (min(start, locus[1]), max(end, locus[2]))
        if letters[1] - letters[0] > 2 * DYNSEQ_FLANK + (end - start):
            letters = locus[1:]  # far apart: the letters of what the view opens on
        tracks = [*motif_track(job), *saliency_tracks(files, chrom, *letters)]
        roi_name = "focused ISM stretch"
    return _browser(genome, chrom, locus[1:], tracks, roi_name, (start, end))


def objective_gene(job: Job, genome: Genome) -> AnnotatedGene | None:
    """The gene whose expression the job explains, or None (a track objective)."""
    gene_id = (job.params.get("objective") or {}).get("gene")
    row = Gene.objects.filter(genome=genome, gene_id=gene_id).first() if gene_id else None
    return row.as_annotation() if row else None


def gene_start_locus(gene: AnnotatedGene) -> tuple[int, int]:
    """The genome [start, end) around a gene's start: its promoter and first bases, upstream
    on its own strand (a − strand gene starts at its end coordinate)."""
    view = gene.start_window(*GENE_START_VIEW)
    return max(view.start, 0), view.end


def _browser(genome, chrom, locus, tracks, roi_name, roi, colour="rgba(31,111,235,0.12)") -> dict:
    """igv.js options: everything from this server, genes first, one region of interest."""
    return {
        "reference": reference_track(genome),
        "locus": f"{chrom}:{locus[0] + 1}-{locus[1]}",
        "tracks": [gene_track(genome, chrom, *locus), *tracks],
        "loadDefaultGenomes": False,
        "search": False,
        "showSampleNames": True,
        "roi": [
            {
                "name": roi_name,
                "color": colour,
                "features": [{"chr": chrom, "start": roi[0], "end": roi[1]}],
            }
        ],
    }


def motif_track(job: Job, *, label: str = "") -> list[dict]:
    """The JASPAR motifs labelling the result's important stretches (none for results made
    before motif scanning, or when nothing stood out)."""
    motifs = job.summary.get("motifs")
    if motifs is None:
        return []
    chrom = (job.summary.get("region") or job.summary["window"])[0]
    features = [
        {
            "chr": chrom,
            "start": motif["start"],
            "end": motif["end"],
            "name": motif["label"],
            "strand": motif["strand"],
        }
        for motif in motifs
    ]
    return [
        {
            "name": f"{label}Motifs (JASPAR) in important stretches",
            "type": "annotation",
            "displayMode": "EXPANDED",
            "color": "rgb(154,103,0)",
            "features": features,
        }
    ]


def _url(artifact) -> str:
    return reverse("gw-artifact-named", args=[artifact.code, artifact.name])


def ism_tracks(
    files: dict,
    *,
    label: str = "",
    limit: float | None = None,
    hide: tuple[int, int] | None = None,
    log: bool = True,
) -> list[dict]:
    """The (L, 4) effects as four heatmap rows (A, C, G, T), and each position's mean effect
    as letters (the reference base, below the axis where mutations lower the objective).

    Args:
        label: prefixed to the track names ("Reference: ").
        limit: the effect drawn at full colour (default: this result's largest |effect|), so
            two results side by side share one scale.
        hide: a genomic [start, end) whose letters are not drawn: igv.js draws the genome's
            base there, which is wrong for a sequence carrying a variant.
        log: whether the objective is log2-scaled (the track names give the unit).
    """
    effects, chrom, start, reference_bases = _ism_matrix(files)
    limit = limit or _ism_limit(effects)
    # igv.js paints seg values between ±0.1 white and saturates at ±1.5: scale ``limit`` to 1.5
    # (the track's name gives ``limit`` in the objective's units; letters and table show raw values)
    scale = SEG_SATURATION / limit
    unit = " log2 units" if log else ""
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
    mean = mean_substitution_effect(effects, reference_bases)
    letters = [
        {"chr": chrom, "start": start + i, "end": start + i + 1, "value": float(v)}
        for i, v in enumerate(mean)
        if not _hidden(start + i, hide)
    ]
    return [
        {
            "name": f"{label}ISM: change in the objective per substitution "
            f"(red up, blue down; full colour at ±{limit:.3g}{unit})",
            "type": "seg",
            "format": "seg",
            "features": features,
            "displayMode": "EXPANDED",
            "height": 70,
        },
        {
            "name": f"{label}ISM: mean effect at each base",
            "type": "wig",
            "features": letters,
            "graphType": "dynseq",
            "height": 70,
        },
        {
            "name": f"{label}ISM mean effect (bigWig)",
            "type": "wig",
            "format": "bigwig",
            "url": _url(files["ism_mean.bw"]),
            "color": "rgb(130,80,223)",
            "height": 40,
        },
    ]


def _ism_matrix(files: dict) -> tuple[np.ndarray, str, int, str]:
    with np.load(files["ism.npz"].path) as saved:
        effects, chrom, start = saved["effects"], str(saved["chrom"]), int(saved["start"])
        return effects, chrom, start, "".join(saved["reference"])


def _ism_limit(effects: np.ndarray) -> float:
    return float(np.abs(effects).max()) or 1.0


def _hidden(position: int, hide: tuple[int, int] | None) -> bool:
    return hide is not None and hide[0] <= position < hide[1]


def saliency_tracks(
    files: dict,
    chrom: str,
    start: int,
    end: int,
    *,
    label: str = "",
    hide: tuple[int, int] | None = None,
) -> list[dict]:
    """Gradient × input as letters around [start, end), and as bars over the window."""
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
        if window_start + i >= 0 and not _hidden(window_start + i, hide)
    ]
    return [
        {
            "name": f"{label}Saliency: gradient × input",
            "type": "wig",
            "features": letters,
            "graphType": "dynseq",
            "height": 80,
        },
        {
            "name": f"{label}Saliency over the window (bigWig)",
            "type": "wig",
            "format": "bigwig",
            "url": _url(files["saliency.bw"]),
            "color": "rgb(31,111,235)",
            "height": 40,
        },
    ]


def allele_pair_config(reference: Job, alternative: Job, genome: Genome, variant) -> dict:
    """One browser for both alleles' results: reference tracks above alternative tracks, on
    one colour scale, the variant as a region of interest."""
    ref_files = {a.name: a for a in reference.artifacts.all()}
    alt_files = {a.name: a for a in alternative.artifacts.all()}
    chrom, site = variant.chrom, (variant.start, variant.start + len(variant.ref))
    if reference.kind == JobKind.ISM:
        log = reference.params.get("log", True)
        limit = max(_ism_limit(_ism_matrix(ref_files)[0]), _ism_limit(_ism_matrix(alt_files)[0]))
        tracks = [
            *motif_track(reference, label="Reference: "),
            *ism_tracks(ref_files, label="Reference: ", limit=limit, log=log),
            *motif_track(alternative, label="Alternative: "),
            *ism_tracks(alt_files, label="Alternative: ", limit=limit, hide=site, log=log),
        ]
        _, start, end = reference.summary["region"]
        locus = (max(start - 20, 0), end + 20)
    elif reference.kind == JobKind.SALIENCY:
        tracks = [
            *motif_track(reference, label="Reference: "),
            *saliency_tracks(ref_files, chrom, *site, label="Reference: "),
            *motif_track(alternative, label="Alternative: "),
            *saliency_tracks(alt_files, chrom, *site, label="Alternative: ", hide=site),
        ]
        locus = (max(site[0] - 150, 0), site[1] + 150)
    else:
        tracks = []
        _, start, end = reference.summary["window"]
        locus = (max(start, 0), end)
    name = f"{variant.ref}>{variant.alt}"
    return _browser(genome, chrom, locus, tracks, name, site, colour="rgba(207,34,46,0.15)")
