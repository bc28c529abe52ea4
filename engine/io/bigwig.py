"""Coverage tracks in bigWig files (pyBigWig): read binned values, write tracks atomically.

Values are read and written per bin of ``bin_size`` bases. Reading sums the per-base values of a
bin, so with a counts track (such as STRIPE-seq TSS counts) a bin holds the reads in it. Parts
of an interval off the contig read as zeros (padded, never clipped), like ``fasta.Genome.fetch``.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from collections.abc import Container, Iterable
from pathlib import Path

import numpy as np
import pyBigWig

from engine.io.intervals import Interval

# What the genome browser's coverage bigWigs hold, observed and predicted alike: observed files
# count the reads at each base, and predictions (reads per bin) are written as reads per base
# (engine.pipeline.tracks.per_base), so one igv.js axis compares them.
COVERAGE_UNIT = "reads per base"


def chrom_sizes(path: str | Path) -> dict[str, int]:
    """Contig lengths declared in a bigWig header.

    Args:
        path: the bigWig file.

    Returns:
        ``{contig name: length}`` in header order.
    """
    bw = _open_for_reading(path)
    try:
        return dict(bw.chroms())
    finally:
        bw.close()


def read_values(path: str | Path, interval: Interval, *, bin_size: int = 1) -> np.ndarray:
    """Binned values of a bigWig over an interval.

    Args:
        path: the bigWig file.
        interval: the region to read; it may start before 0 or end past the contig end.
        bin_size: bases per bin; must divide ``len(interval)``.

    Returns:
        float32 array of shape ``(len(interval) // bin_size,)``: the sum of the per-base values
        in each bin. Missing data (NaN) and positions off the contig count as 0.

    Raises:
        ValueError: when ``bin_size`` is not positive or does not divide the interval length.
        KeyError: when the bigWig has no contig named ``interval.chrom``.
    """
    _check_bin_size(len(interval), bin_size)
    bw = _open_for_reading(path)
    try:
        per_base = _read_per_base(bw, interval)  # (L,)
    finally:
        bw.close()
    # Sum in float64 so long bins of large counts do not lose precision before the cast.
    binned = per_base.astype(np.float64).reshape(-1, bin_size).sum(axis=1)  # (L // bin_size,)
    return binned.astype(np.float32)


def read_entries(path: str | Path, interval: Interval) -> list[tuple[int, int, float]]:
    """The stored entries of a bigWig that overlap an interval, clipped to it: a bedGraph slice.

    Unlike ``read_values`` nothing is binned or padded, so a sparse track (TSS counts) stays
    small and a binned one (predictions) keeps its bins.

    Args:
        path: the bigWig file.
        interval: the region to read; parts off the contig hold no entries.

    Returns:
        ``(start, end, value)`` per entry, sorted by start, 0-based half-open and within
        ``interval``; entries whose value is NaN are left out.

    Raises:
        KeyError: when the bigWig has no contig named ``interval.chrom``.
    """
    bw = _open_for_reading(path)
    try:
        contig_length = bw.chroms(interval.chrom)
        if contig_length is None:
            raise KeyError(f"contig {interval.chrom!r} is not in the bigWig")
        start, end = max(interval.start, 0), min(interval.end, contig_length)
        # pyBigWig returns None, not an empty tuple, where nothing is stored.
        stored = (bw.intervals(interval.chrom, start, end) or ()) if end > start else ()
    finally:
        bw.close()
    return [
        (max(first, start), min(last, end), value)
        for first, last, value in stored
        if not math.isnan(value)
    ]


def write_bigwig(
    path: str | Path,
    chrom_sizes: dict[str, int],
    tracks: Iterable[tuple[Interval, np.ndarray]],
    *,
    bin_size: int = 1,
) -> None:
    """Write binned values to a new bigWig, replacing ``path`` atomically.

    Each track becomes fixed-step entries of span and step ``bin_size`` starting at its
    interval's start. Bins that do not lie wholly on the contig are skipped, since a bigWig
    cannot hold positions outside ``[0, contig length)``.

    Args:
        path: the bigWig to create or replace.
        chrom_sizes: ``{contig name: length}``; its order is the header order.
        tracks: ``(interval, values)`` pairs; ``values`` has shape ``(len(interval) // bin_size,)``.
            Intervals must not overlap; they may come in any order.
        bin_size: bases per value.

    Raises:
        ValueError: on an unknown contig, a values array of the wrong shape, or overlapping tracks.
    """
    entries = _sorted_entries(chrom_sizes, tracks, bin_size)
    path = Path(path)
    # A temp file in the same directory makes os.replace a rename on one filesystem, so readers
    # (igv.js range requests) never see a half-written file.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        _write_entries(tmp_name, chrom_sizes, entries, bin_size)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _open_for_reading(path: str | Path) -> pyBigWig.pyBigWig:
    # pyBigWig reports a missing file and a corrupt one with the same bare RuntimeError.
    if not Path(path).is_file():
        raise FileNotFoundError(f"no bigWig file at {path}")
    try:
        bw = pyBigWig.open(str(path))
    except RuntimeError as error:
        raise ValueError(f"{path} is not a readable bigWig file") from error
    if not bw.isBigWig():  # a bigBed opens fine but has no values
        bw.close()
        raise ValueError(f"{path} is a bigBed, not a bigWig file")
    return bw


def _check_bin_size(length: int, bin_size: int) -> None:
    if bin_size < 1 or length % bin_size:
        raise ValueError(f"bin_size {bin_size} must be positive and divide the length {length}")


def _read_per_base(bw: pyBigWig.pyBigWig, interval: Interval) -> np.ndarray:
    """Per-base values of ``interval``, zero-padded off the contig; shape ``(L,)``."""
    contig_length = bw.chroms(interval.chrom)
    if contig_length is None:
        raise KeyError(f"contig {interval.chrom!r} is not in the bigWig")
    values = np.zeros(len(interval), dtype=np.float64)
    start, end = max(interval.start, 0), min(interval.end, contig_length)
    # pyBigWig returns an empty list instead of NaNs for a file with no data at all.
    if end > start and bw.header()["nBasesCovered"] > 0:
        core = np.asarray(bw.values(interval.chrom, start, end, numpy=True), dtype=np.float64)
        values[start - interval.start : end - interval.start] = core
    return np.nan_to_num(values, nan=0.0)


def _sorted_entries(
    chrom_sizes: dict[str, int], tracks: Iterable[tuple[Interval, np.ndarray]], bin_size: int
) -> list[tuple[Interval, np.ndarray]]:
    """Tracks checked and ordered as bigWig requires: header order, then start."""
    order = {chrom: index for index, chrom in enumerate(chrom_sizes)}
    checked = [_checked_track(interval, values, order, bin_size) for interval, values in tracks]
    checked.sort(key=lambda entry: (order[entry[0].chrom], entry[0].start))
    for (before, _), (after, _) in itertools.pairwise(checked):
        if before.overlaps(after):
            raise ValueError(f"tracks {before.to_ucsc()} and {after.to_ucsc()} overlap")
    return checked


def _checked_track(
    interval: Interval, values: np.ndarray, contigs: Container[str], bin_size: int
) -> tuple[Interval, np.ndarray]:
    """The track with its values as float64, after checking its contig and shape."""
    if interval.chrom not in contigs:
        raise ValueError(f"contig {interval.chrom!r} is not in chrom_sizes")
    _check_bin_size(len(interval), bin_size)
    array = np.asarray(values, dtype=np.float64)
    expected = len(interval) // bin_size
    if array.shape != (expected,):
        raise ValueError(f"{interval.to_ucsc()} needs {expected} values, got shape {array.shape}")
    return interval, array


def _bins_on_contig(
    interval: Interval, values: np.ndarray, contig_length: int, bin_size: int
) -> tuple[int, np.ndarray] | None:
    """First start and values of the bins wholly on the contig (a contiguous run), or None."""
    starts = interval.start + bin_size * np.arange(len(values))  # (n_bins,)
    keep = (starts >= 0) & (starts + bin_size <= contig_length)
    if not keep.any():
        return None
    return int(starts[keep][0]), values[keep]


def _write_entries(
    path: str,
    chrom_sizes: dict[str, int],
    entries: list[tuple[Interval, np.ndarray]],
    bin_size: int,
) -> None:
    bw = pyBigWig.open(path, "w")
    try:
        bw.addHeader(list(chrom_sizes.items()))
        for interval, values in entries:
            on_contig = _bins_on_contig(interval, values, chrom_sizes[interval.chrom], bin_size)
            if on_contig is not None:
                start, kept = on_contig
                bw.addEntries(interval.chrom, start, values=kept, span=bin_size, step=bin_size)
    finally:
        bw.close()
