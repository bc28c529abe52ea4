"""The design prediction job: a design's edited window against the reference, as bigWigs and
per-track and per-gene changes."""

from pathlib import Path

import torch

from engine.io.annotation import Gene
from engine.io.bigwig import COVERAGE_UNIT, write_bigwig
from engine.io.encoding import one_hot_batch
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter
from engine.models.runtime import autocast
from engine.pipeline.common import InterpretationOutput
from engine.pipeline.tracks import per_base
from engine.variants.scorers import gene_region_bins, gene_scores, score_all, strand_mask

DESIGN_SCORES = ("REF", "ALT", "SUM", "logSED")


TOP_GENES = 20


def fit_to_window(genome: Genome, window: Interval, edited: str, *, right: bool) -> str:
    """An edited window sequence at the model's input length ``len(window)``.

    Left-anchored (``right=False``): the sequence before the edits keeps its place; a longer
    sequence loses its right end, a shorter one continues with the genome after the window.
    Right-anchored: the mirror image, so the sequence after the edits keeps its place. (The
    variant engine's rule for indels, see engine.variants.effects.)
    """
    change = len(edited) - len(window)
    if change >= 0:
        return edited[change:] if right else edited[: len(window)]
    if right:
        return genome.fetch(Interval(window.chrom, window.start + change, window.start)) + edited
    return edited + genome.fetch(Interval(window.chrom, window.end, window.end - change))


def predict_design(
    model: ModelAdapter,
    fasta: Path,
    window: Interval,
    edited: str,
    last_edit_end: int,
    tracks: list[int],
    genes: list[Gene],
    out_dir: Path,
) -> InterpretationOutput:
    """Reference and edited predictions of a design's window, as bigWigs on genome coordinates,
    with per-track and per-gene changes.

    When the edits change the length, output bins left of the last edit come from the
    left-anchored prediction and the others from the right-anchored one, so every bin away from
    the edits compares the same genome sequence (``last_edit_end``: window position, reference
    coordinates).
    """
    genome = Genome(fasta)
    try:
        texts = [genome.fetch(window), fit_to_window(genome, window, edited, right=False)]
        if len(edited) != len(window):
            texts.append(fit_to_window(genome, window, edited, right=True))
        contigs = dict(genome.contig_lengths)
    finally:
        genome.close()
    with torch.inference_mode(), autocast(model.device):
        pred = model.predict(torch.from_numpy(one_hot_batch(texts)).to(model.device), tracks)
    pred = pred.float()
    ref, alt = pred[:1], pred[1:2].clone()
    if len(texts) == 3:
        cut = -(-(last_edit_end - model.crop_bp) // model.bin_size)  # first bin past the edits
        alt[:, max(cut, 0) :] = pred[2:3, max(cut, 0) :]
    first = window.start + model.crop_bp
    output = Interval(window.chrom, first, first + model.output_bins * model.bin_size)
    ids = [model.tracks.tracks[i].identifier for i in tracks]
    files = _coverage_files(  # in reads per base, as the observed tracks beside them
        per_base(ref[0].cpu().numpy(), model, tracks),
        per_base(alt[0].cpu().numpy(), model, tracks),
        ids,
        output,
        contigs,
        out_dir,
        model.bin_size,
    )
    summary = {
        "interval": [output.chrom, output.start, output.end],
        "tracks": ids,
        "length_change": len(edited) - len(window),
        "track_scores": _track_rows(
            ref, alt, ids, torch.as_tensor(model.log_pseudocounts(tracks), device=ref.device)
        ),
        "gene_scores": _gene_rows(model, ref, alt, tracks, genes, output),
        "gene_region": model.gene_region.describe(),
    }
    return InterpretationOutput(files, summary)


def _coverage_files(ref, alt, ids, output, contigs, out_dir: Path, bin_size: int) -> list:
    files = []
    for column, ident in enumerate(ids):
        for label, values in (("ref", ref), ("alt", alt), ("delta", alt - ref)):
            path = out_dir / f"{label}.{ident}.bw"
            write_bigwig(path, contigs, [(output, values[:, column])], bin_size=bin_size)
            files.append(
                (
                    path,
                    "application/octet-stream",
                    f"Predicted {DESIGN_LABELS[label]}, {ident} ({COVERAGE_UNIT})",
                )
            )
    return files


DESIGN_LABELS = {"ref": "reference", "alt": "edited design", "delta": "edited − reference"}


def _track_rows(ref, alt, ids, pseudocount) -> list[dict]:
    values = score_all(ref, alt, DESIGN_SCORES, pseudocount)[0].cpu().numpy()  # (T, 4)
    return [
        {"track": ident, **{name: float(v) for name, v in zip(DESIGN_SCORES, row, strict=True)}}
        for ident, row in zip(ids, values, strict=True)
    ]


def _gene_rows(model, ref, alt, tracks, genes, output: Interval) -> list[dict]:
    """SED and logSED of each gene with scored bins in the output (``model.gene_region``), on
    strand-matched tracks; the ``TOP_GENES`` largest |logSED| first."""
    reach = model.gene_region.reach
    nearby = [
        g
        for g in genes
        if g.chrom == output.chrom and g.end + reach > output.start and g.start - reach < output.end
    ]
    if not nearby:
        return []
    bins = gene_region_bins(nearby, output, model.bin_size, model.gene_region)
    strands = strand_mask(nearby, [model.tracks.tracks[t] for t in tracks])
    device = ref.device
    sed, log_sed = gene_scores(
        ref,
        alt,
        torch.as_tensor(bins, device=device)[None],
        torch.as_tensor(strands, device=device),
        torch.as_tensor(model.log_pseudocounts(tracks), device=device),
    )
    sed, log_sed = sed[0].cpu().numpy(), log_sed[0].cpu().numpy()  # (G, T)
    rows = [
        {
            "gene": gene.name or gene.gene_id,
            "gene_id": gene.gene_id,
            "track": model.tracks.tracks[t].identifier,
            "sed": float(sed[g, column]),
            "log_sed": float(log_sed[g, column]),
        }
        for g, gene in enumerate(nearby)
        if bins[g].any()
        for column, t in enumerate(tracks)
        if strands[g, column]
    ]
    return sorted(rows, key=lambda row: -abs(row["log_sed"]))[:TOP_GENES]
