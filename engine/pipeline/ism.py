"""The ISM job (and ``manage.py ism``): every substitution of a stretch, its npz, mean-effect
bigWig, motif labels and paper figure."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.interpret.figures import ism_figure
from engine.interpret.ism import ism
from engine.interpret.ism_rules import ISM_NOISE_MADS, mean_substitution_effect
from engine.interpret.motifs import PositionWeightMatrix, label_segments
from engine.interpret.objectives import Objective
from engine.io.bigwig import write_bigwig
from engine.io.encoding import one_hot
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter
from engine.pipeline.common import (
    Allele,
    InterpretationOutput,
    Progress,
    carrying,
    motif_file,
    motif_rows,
    window_sequence,
    write_figure,
)

TOP_POSITIONS = 10
ISM_BATCH_SIZE = 32  # mutants per forward pass


def run_ism(
    model: ModelAdapter,
    fasta: Path,
    region: Interval,
    window: Interval,
    objective: Objective,
    out_dir: Path,
    progress: Progress,
    allele: Allele | None = None,
    motif_matrices: Sequence[PositionWeightMatrix] = (),
    *,
    batch_size: int = ISM_BATCH_SIZE,
    fast: bool = True,
) -> InterpretationOutput:
    """Every substitution of ``region`` inside ``window`` (carrying ``allele`` if given), in
    batches of ``batch_size`` mutants, on the model's fast path unless ``fast`` is False.

    Writes ``ism.npz`` (the ``(L, 4)`` matrix and its context; equal inputs give equal bytes),
    ``ism_mean.bw`` (the mean effect of a position's substitutions), ``motifs.bed`` (the
    ``motif_matrices`` that best match the important stretches) and the paper figure
    ``ism.svg`` / ``ism.png``.
    """
    sequence, contigs = window_sequence(fasta, window, allele)
    first = region.start - window.start
    result = ism(
        model,
        one_hot(sequence),
        objective,
        first,
        first + len(region),
        batch_size=batch_size,
        fast=fast,
        progress=progress,
    )
    stretch = sequence[first : first + len(region)]
    npz = out_dir / "ism.npz"
    np.savez(  # numpy dates every entry 1980-01-01: equal arrays, equal bytes
        npz,
        model=model.name,
        effects=result.effects,
        reference=np.array(list(stretch)),
        chrom=region.chrom,
        start=region.start,
        end=region.end,
        window_start=window.start,
        objective=objective.description,
        reference_objective=result.reference,
        tracks=np.array([model.tracks.tracks[t].identifier for t in objective.tracks]),
    )
    mean = out_dir / "ism_mean.bw"
    mean_effect = mean_substitution_effect(result.effects, stretch)
    write_bigwig(mean, contigs, [(region, mean_effect)], bin_size=1)
    motifs = label_segments(
        stretch, -mean_effect, motif_matrices, offset=region.start, noise_mads=ISM_NOISE_MADS
    )
    title = f"{model.name}: ISM of {region.readable()}{carrying(allele)}, {objective.description}"
    drawn = ism_figure(result.effects, stretch, region, title, motifs)
    figure = write_figure(out_dir / "ism", drawn)
    summary = {
        "objective": objective.description,
        "reference_objective": result.reference,
        "region": [region.chrom, region.start, region.end],
        "mutants": result.forward_passes,
        "strongest": _strongest_mutations(result.effects, stretch, region),
        "motifs": motif_rows(motifs),
    }
    files = [
        (npz, "application/octet-stream", "ISM matrix (L × 4, alt − ref objective) and context"),
        (mean, "application/octet-stream", "Mean effect of the three substitutions per base"),
        (figure[0], "image/svg+xml", "Figure: importance logo over the substitution heatmap"),
        (figure[1], "image/png", "The same figure as PNG (200 dpi)"),
        motif_file(motifs, region.chrom, out_dir),
    ]
    return InterpretationOutput(files, summary)


def _strongest_mutations(effects: np.ndarray, stretch: str, region: Interval) -> list[dict]:
    """The substitutions that lower the objective most (1-based positions, for people)."""
    order = np.argsort(effects, axis=None)[:TOP_POSITIONS]
    rows = []
    for flat in order:
        offset, base = divmod(int(flat), 4)
        rows.append(
            {
                "position": region.start + offset + 1,
                "ref": stretch[offset],
                "alt": "ACGT"[base],
                "effect": float(effects[offset, base]),
            }
        )
    return rows
