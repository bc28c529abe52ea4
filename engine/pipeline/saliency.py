"""The saliency job: gradient × input over a window, its bigWig, motif labels and the proposed
focused-ISM stretch."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.interpret.ism_rules import FOCUSED_ISM_BP
from engine.interpret.motifs import PositionWeightMatrix, label_segments
from engine.interpret.objectives import Objective
from engine.interpret.saliency import peak_window, saliency
from engine.io.bigwig import write_bigwig
from engine.io.encoding import one_hot
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter
from engine.pipeline.common import (
    Allele,
    InterpretationOutput,
    motif_file,
    motif_rows,
    window_sequence,
)


def run_saliency(
    model: ModelAdapter,
    fasta: Path,
    window: Interval,
    objective: Objective,
    out_dir: Path,
    allele: Allele | None = None,
    motif_matrices: Sequence[PositionWeightMatrix] = (),
) -> InterpretationOutput:
    """Gradient × input over ``window`` (carrying ``allele`` if given); writes
    ``saliency.npz``, ``saliency.bw`` and ``motifs.bed`` (the best matches to the important
    stretches), and proposes the focused-ISM stretch (192 bp on the smoothed peak)."""
    sequence, contigs = window_sequence(fasta, window, allele)
    result = saliency(model, one_hot(sequence), objective)
    first, last = peak_window(result.contribution, FOCUSED_ISM_BP)
    motifs = label_segments(sequence, result.contribution, motif_matrices, offset=window.start)
    npz = out_dir / "saliency.npz"
    np.savez(  # numpy dates every entry 1980-01-01: equal arrays, equal bytes
        npz,
        gradient=result.gradient,
        contribution=result.contribution,
        chrom=window.chrom,
        window_start=window.start,
        objective=objective.description,
        objective_value=result.objective,
        model=model.name,
        focused_ism_start=window.start + first,
        focused_ism_end=window.start + last,
    )
    bigwig = out_dir / "saliency.bw"
    write_bigwig(bigwig, contigs, [(window, result.contribution)], bin_size=1)
    summary = {
        "objective": objective.description,
        "objective_value": result.objective,
        "window": [window.chrom, window.start, window.end],
        "focused_ism": [window.chrom, window.start + first, window.start + last],
        "motifs": motif_rows(motifs),
    }
    files = [
        (npz, "application/octet-stream", "Gradient (L × 4, centred) and gradient × input"),
        (bigwig, "application/octet-stream", "Gradient × input per base"),
        motif_file(motifs, window.chrom, out_dir),
    ]
    return InterpretationOutput(files, summary)
