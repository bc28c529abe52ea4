"""Coverage accuracy of any model where the genome has observed tracks named like its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from engine.io.bigwig import read_values
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter
from engine.models.regions import predict_region
from engine.training.metrics import log_pearson


def paired_coverage(
    model: ModelAdapter,
    genome: Genome,
    observed: Mapping[str, Path],
    chroms: Sequence[str],
    batch_size: int = 16,
) -> dict:
    """Pearson of log1p(observed) and log1p(predicted) counts per model bin over whole
    ``chroms``, for each model track with an observed bigWig of the same identifier."""
    ids = [track.identifier for track in model.tracks.tracks]
    columns = [i for i, ident in enumerate(ids) if ident in observed]
    if not columns:
        return {"skipped": "no observed track of this genome is named like a model track"}
    predicted, measured = [], []
    for chrom in chroms:
        length = genome.contig_lengths[chrom]
        interval = Interval(chrom, 0, length - length % model.bin_size)  # whole bins only
        predicted.append(predict_region(model, genome, interval, columns, batch_size))
        measured.append(
            np.stack(
                [read_values(observed[ids[i]], interval, bin_size=model.bin_size) for i in columns],
                axis=1,
            )
        )
    pred, obs = np.concatenate(predicted), np.concatenate(measured)  # (bins, tracks)
    per_track = {
        ids[i]: round(log_pearson(obs[:, k], pred[:, k]), 4) for k, i in enumerate(columns)
    }
    return {
        "chromosomes": list(chroms),
        "bin_size": model.bin_size,
        "tracks": per_track,
        "mean_pearson": round(float(np.mean(list(per_track.values()))), 4),
    }
