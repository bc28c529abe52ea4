"""Predicted coverage over genomic regions, written as bigWigs (counts per bin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.io.bigwig import write_bigwig
from engine.io.encoding import base_codes
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter
from engine.models.runtime import autocast
from engine.models.tiling import tile_region


def aligned(interval: Interval, bin_size: int, contig_length: int) -> Interval:
    """``interval`` widened to the bin grid and clipped to the contig."""
    start = interval.start // bin_size * bin_size
    end = min(-(-interval.end // bin_size) * bin_size, contig_length)
    return Interval(interval.chrom, max(start, 0), end)


def predict_region(
    model: ModelAdapter,
    genome: Genome,
    interval: Interval,
    tracks: list[int] | None = None,
    batch_size: int = 8,
) -> np.ndarray:
    """Tile ``interval`` (on the bin grid) with windows; ``(bins, tracks)`` predicted counts."""
    length = genome.contig_lengths[interval.chrom]
    codes = base_codes(genome.fetch(Interval(interval.chrom, 0, length)))

    def run(onehot):
        with autocast(model.device):
            return model.predict(onehot.to(model.device), tracks)

    return tile_region(
        run,
        codes,
        interval.start,
        interval.end,
        sequence_length=model.sequence_length,
        crop_bp=model.crop_bp,
        bin_size=model.bin_size,
        batch_size=batch_size,
    )


def write_track_bigwigs(
    out_dir: Path,
    genome: Genome,
    interval: Interval,
    values: np.ndarray,
    identifiers: list[str],
    bin_size: int,
) -> list[Path]:
    """One bigWig per track, named ``<identifier>.bw``, values = predicted counts per bin."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = dict(genome.contig_lengths)
    # Whole bins only: a last bin cut by the contig end is not written (it has < bin_size bp).
    span = Interval(interval.chrom, interval.start, interval.start + len(values) * bin_size)
    paths = []
    for column, identifier in enumerate(identifiers):
        path = out_dir / f"{identifier}.bw"
        write_bigwig(path, sizes, [(span, values[:, column])], bin_size=bin_size)
        paths.append(path)
    return paths
