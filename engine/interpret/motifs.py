"""Label the important stretches of an ISM or saliency result with JASPAR motifs.

The matrices come from the JASPAR release that pyjaspar bundles as an SQLite file
(``JASPAR_RELEASE``, which ``designs/motifs.py`` also searches): CORE collection, latest
version of each matrix, optionally one taxonomic group. The file is read with ``sqlite3``
directly, so neither pyjaspar's Python API nor Biopython is loaded and nothing is fetched from
the network.

Scoring follows JASPAR's own tools (TFBS, Wasserman & Sandelin 2004):

- Counts become probabilities with a pseudocount of ``sqrt(N)`` per column of ``N`` sites,
  split evenly over the four bases: the TFBS default, which Biopython's
  ``jaspar.calculate_pseudocounts`` reproduces. A constant such as 0.8 is negligible for
  ChIP-seq matrices (CORE has up to 320,000 sites), so a zero count costs -13 bits or more, sets
  the minimum score almost alone and pushes ordinary windows up the relative scale: on random
  sequence the fungal matrices give 950 matches per kb at relative 0.85 with 0.8, 520 with
  ``sqrt(N)``.
- Log-odds in bits against a uniform background: ``log2(p / 0.25)``.
- ``relative = (score - min) / (max - min)``, min and max over ACGT windows, so the best
  possible site scores 1.0 whatever the matrix width.
- An unknown base (``N``) scores the mean of its column, what a random base scores on average,
  rather than 0, which would beat the average and favour windows full of N.

Coordinates are 0-based half-open. Minus-strand matches score the reverse complement of the
window but are reported in the plus-strand frame, like BED.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import math
import os
import re
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.io.encoding import one_hot

JASPAR_RELEASE = "JASPAR2026"  # the SQLite file pyjaspar ships; designs search the same one
# Uniform: genomes differ in GC content, but one background keeps scores comparable across them.
BACKGROUND = 0.25
_CHUNK_VALUES = 1 << 22  # window positions x matrices scored per matmul: ~16 MB of float32

# Common names a genome may be described by, for when the text has no binomial JASPAR knows.
# Values are JASPAR's tax_group annotation values (checked against JASPAR2026).
_COMMON_NAMES = {
    "human": "vertebrates",
    "mouse": "vertebrates",
    "rat": "vertebrates",
    "zebrafish": "vertebrates",
    "chicken": "vertebrates",
    "yeast": "fungi",
    "fly": "insects",
    "worm": "nematodes",
    "arabidopsis": "plants",
    "maize": "plants",
    "rice": "plants",
}

# Tax group of the CORE matrices measured on a species: exact binomial first, else its genus.
_SPECIES_SQL = """
    SELECT a.VAL FROM TAX t
    JOIN MATRIX_SPECIES s ON s.TAX_ID = t.TAX_ID
    JOIN MATRIX m ON m.ID = s.ID AND m.COLLECTION = 'CORE'
    JOIN MATRIX_ANNOTATION a ON a.ID = m.ID AND a.TAG = 'tax_group'
    WHERE UPPER(t.SPECIES) = UPPER(:species) OR UPPER(t.SPECIES) LIKE UPPER(:genus)
    GROUP BY a.VAL
    ORDER BY MAX(UPPER(t.SPECIES) = UPPER(:species)) DESC, COUNT(*) DESC
    LIMIT 1
"""

# One row per count, latest CORE version of each matrix, optionally one tax group. The matrices
# are chosen first (MATERIALIZED): filtering the joined count rows instead takes minutes, as
# MATRIX_ANNOTATION has no index.
_COUNTS_SQL = """
    WITH latest AS (
        SELECT BASE_ID, MAX(VERSION) AS VERSION FROM MATRIX
        WHERE COLLECTION = 'CORE' GROUP BY BASE_ID
    ), chosen AS MATERIALIZED (
        SELECT m.ID, m.BASE_ID || '.' || m.VERSION AS MATRIX_ID, m.NAME FROM MATRIX m
        JOIN latest USING (BASE_ID, VERSION)
        WHERE m.COLLECTION = 'CORE'
          AND (:tax_group IS NULL OR m.ID IN (
              SELECT ID FROM MATRIX_ANNOTATION WHERE TAG = 'tax_group' AND VAL = :tax_group))
    )
    SELECT c.MATRIX_ID, c.NAME, d.col, d.row, d.val
    FROM chosen c JOIN MATRIX_DATA d ON d.ID = c.ID
    ORDER BY c.MATRIX_ID, d.col, d.row
"""


@dataclass(frozen=True, eq=False)
class PositionWeightMatrix:
    """A JASPAR matrix as log-odds scores.

    Attributes:
        matrix_id: JASPAR id with version, e.g. ``MA0299.1``.
        name: the transcription factor, e.g. ``GAL4``.
        log_odds: read-only float32 array of shape ``(width, 4)``, columns A, C, G, T, in bits.
        min_score: the lowest score an ACGT window can reach.
        max_score: the highest score an ACGT window can reach.
    """

    matrix_id: str
    name: str
    log_odds: np.ndarray
    min_score: float
    max_score: float

    @property
    def width(self) -> int:
        return int(self.log_odds.shape[0])


@dataclass(frozen=True)
class MotifMatch:
    """One site scoring above the threshold. ``start``/``end`` are on the plus strand."""

    matrix_id: str
    name: str
    start: int
    end: int
    strand: str
    score: float
    relative_score: float
    importance: float = 0.0

    @property
    def label(self) -> str:
        """How the match is shown, e.g. ``GAL4 (MA0299.1)``."""
        return f"{self.name} ({self.matrix_id})"


def tax_group_for_species(species: str) -> str | None:
    """The JASPAR taxonomic group to scan a genome of ``species`` with.

    Looks the binomial up among the species JASPAR CORE matrices were measured in, then the
    genus, then a few common names ("human", "yeast"...).

    Args:
        species: free text such as ``Saccharomyces cerevisiae`` or ``Homo sapiens (GRCh38)``.

    Returns:
        A tax group as JASPAR spells it (``fungi``, ``vertebrates``, ``insects``, ``plants``,
        ``nematodes``...), or None when unknown, meaning scan all of CORE.
    """
    words = re.findall(r"[A-Za-z]+", species)
    if not words:
        return None
    binomial = " ".join(words[:2])
    with _connect() as connection:
        row = connection.execute(
            _SPECIES_SQL, {"species": binomial, "genus": f"{words[0]} %"}
        ).fetchone()
    if row:
        return str(row[0])
    return next((_COMMON_NAMES[w.lower()] for w in words if w.lower() in _COMMON_NAMES), None)


@functools.lru_cache(maxsize=16)
def load_matrices(tax_group: str | None) -> list[PositionWeightMatrix]:
    """CORE matrices of one tax group, latest version of each, as log-odds. Cached.

    Args:
        tax_group: a JASPAR tax group such as ``fungi``, or None for all of CORE.

    Returns:
        Matrices ordered by JASPAR id; empty for a group JASPAR does not have. The list is
        shared between callers through the cache: do not modify it.
    """
    with _connect() as connection:
        rows = connection.execute(_COUNTS_SQL, {"tax_group": tax_group}).fetchall()
    matrices = []
    for start, stop in _runs_of_equal_ids(rows):
        matrix_id, name = rows[start][0], rows[start][1]
        counts = np.array([row[4] for row in rows[start:stop]], dtype=np.float64).reshape(-1, 4)
        matrices.append(pwm_from_counts(matrix_id, name, counts))
    return matrices


def pwm_from_counts(matrix_id: str, name: str, counts: np.ndarray) -> PositionWeightMatrix:
    """Turn a count matrix into log-odds scores (pseudocount ``sqrt(N)`` per column).

    Args:
        matrix_id: e.g. ``MA0299.1``.
        name: e.g. ``GAL4``.
        counts: array of shape ``(width, 4)``, columns A, C, G, T.

    Returns:
        The matrix, with its log-odds in bits against a uniform background.
    """
    counts = np.asarray(counts, dtype=np.float64)
    sites = counts.sum(axis=1, keepdims=True)  # (width, 1); JASPAR columns can differ slightly
    pseudocount = np.sqrt(sites)
    probabilities = (counts + BACKGROUND * pseudocount) / (sites + pseudocount)
    log_odds = np.log2(probabilities / BACKGROUND).astype(np.float32)
    log_odds.setflags(write=False)  # shared through load_matrices' cache
    return PositionWeightMatrix(
        matrix_id=matrix_id,
        name=name,
        log_odds=log_odds,
        min_score=float(log_odds.min(axis=1).sum()),
        max_score=float(log_odds.max(axis=1).sum()),
    )


def scan(
    sequence: str, matrices: Sequence[PositionWeightMatrix], *, min_relative: float = 0.85
) -> list[MotifMatch]:
    """Every site on either strand whose relative score reaches ``min_relative``.

    Args:
        sequence: DNA letters; anything but ACGT scores as an unknown base.
        matrices: from ``load_matrices``.
        min_relative: threshold on ``(score - min) / (max - min)``, in [0, 1].

    Returns:
        Matches ordered by start, then best relative score first. ``importance`` is 0.
    """
    return _Scanner(matrices).scan(sequence, min_relative)


def site_scores(sequence: str, matrices: Sequence[PositionWeightMatrix]) -> np.ndarray:
    """Every matrix's log-odds score (bits) at every start of ``sequence``, both strands:
    ``(L, 2M)``, the plus-strand copies first, ``-inf`` where a matrix would run off the end."""
    scanner = _Scanner(matrices)
    scores = np.full((len(sequence), 2 * len(scanner.matrices)), -np.inf, dtype=np.float32)
    if not scanner.matrices or not sequence:
        return scores
    windows = scanner._windows(sequence)
    chunk = max(1, _CHUNK_VALUES // scanner.table.shape[1])
    for first in range(0, len(sequence), chunk):
        block = windows[first : first + chunk]
        scores[first : first + len(block)] = block.reshape(len(block), -1) @ scanner.table
    starts = np.arange(len(sequence))[:, None]
    scores[starts + scanner.widths > len(sequence)] = -np.inf
    return scores


def important_segments(
    importance: np.ndarray,
    *,
    fraction: float = 0.1,
    noise_mads: float = 8.0,
    smooth_bp: int = 5,
    max_gap: int = 3,
    min_length: int = 4,
    pad: int = 3,
    limit: int = 20,
) -> list[tuple[int, int]]:
    """Stretches where ``|importance|`` stands out from the rest of the window.

    ``|importance|`` is smoothed by a centred ``smooth_bp`` mean, so a lone spike counts for
    less than a run. A base is important when its smoothed value exceeds both ``fraction`` of
    the maximum and a noise floor of ``median + noise_mads * MAD`` (MAD scaled to a standard
    deviation). On Gaussian noise the 5-bp smoothed maximum reached 6.4 MADs over 8 kb and 7.2
    over 512 kb (400 and 60 seeds), hence 8: pure noise yields nothing at any window size.

    Runs closer than ``max_gap`` are merged. Smoothing widens a block by up to half the window
    on each side, so each run is then trimmed to its outermost strong bases: those whose own
    ``|importance|`` clears the same rule applied to the unsmoothed values (a run without one
    keeps its bounds). Runs shorter than ``min_length`` after trimming, such as a lone spike,
    are dropped, and the rest padded by ``pad``.

    Args:
        importance: shape ``(L,)``, one value per base, signed. NaN and inf count as 0.
        fraction: of the maximum smoothed ``|importance|``, in [0, 1].
        noise_mads: robust standard deviations above the median for the noise floor.
        smooth_bp: width of the moving mean.
        max_gap: runs separated by at most this many bases are merged.
        min_length: shortest run kept, after trimming and before padding.
        pad: bases added on each side, clipped to ``[0, L)``.
        limit: the most segments returned; the ones with the largest summed ``|importance|``.

    Returns:
        Non-overlapping ``(start, end)`` pairs, 0-based half-open in ``importance``'s frame,
        ordered by start.

    Raises:
        ValueError: when ``importance`` is not one-dimensional.
    """
    magnitude = _magnitude(importance)
    smoothed = _moving_mean(magnitude, smooth_bp)
    starts, ends = _runs(smoothed > _importance_threshold(smoothed, fraction, noise_mads))
    starts, ends = _merge_close(starts, ends, max_gap)
    strong = magnitude > _importance_threshold(magnitude, fraction, noise_mads)
    starts, ends = _trim_to_strong_bases(starts, ends, strong)
    keep = ends - starts >= min_length
    starts = np.maximum(starts[keep] - pad, 0)
    ends = np.minimum(ends[keep] + pad, len(magnitude))
    starts, ends = _merge_close(starts, ends, 0)  # padding can make neighbours touch
    return _strongest(starts, ends, magnitude, limit)


def label_segments(
    sequence: str,
    importance: np.ndarray,
    matrices: Sequence[PositionWeightMatrix],
    *,
    offset: int = 0,
    per_segment: int = 2,
    min_relative: float = 0.85,
    limit: int = 20,
    noise_mads: float = 8.0,
) -> list[MotifMatch]:
    """The motifs that best explain each important segment.

    A match belongs to a segment when at least half its width lies inside it. Within a
    segment matches rank by log-odds score in bits (equal to 3 decimals counts as a tie, since
    float32 sums differ in the last digits), then by summed ``|importance|`` under them. Bits
    favour long, informative motifs over short ones that match by chance. The best
    ``per_segment`` that do not overlap each other are kept.

    Args:
        sequence: DNA letters, the same length as ``importance``.
        importance: shape ``(L,)``, per-base importance as for ``important_segments``.
        matrices: from ``load_matrices``.
        offset: added to every coordinate, e.g. the genomic start of ``sequence``.
        per_segment: the most matches kept per segment.
        min_relative: threshold on the relative score.
        limit: the most segments labelled (``important_segments``' limit).
        noise_mads: ``important_segments``' noise threshold.

    Returns:
        Matches segment by segment in position order, best first within a segment; ``start``,
        ``end`` shifted by ``offset`` and ``importance`` the signed sum under the match.

    Raises:
        ValueError: when ``sequence`` and ``importance`` differ in length.
    """
    importance = np.asarray(importance)
    if importance.shape != (len(sequence),):
        raise ValueError(
            f"importance must have shape ({len(sequence)},) like the sequence, "
            f"got {importance.shape}"
        )
    if not matrices:
        return []
    scanner = _Scanner(matrices)
    signed = np.nan_to_num(importance.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    labels = []
    for start, end in important_segments(importance, noise_mads=noise_mads, limit=limit):
        window_start = max(start - scanner.max_width + 1, 0)
        window_end = min(end + scanner.max_width - 1, len(sequence))
        found = scanner.scan(sequence[window_start:window_end], min_relative)
        inside = [_shifted(m, window_start, signed) for m in found]
        inside = [m for m in inside if 2 * _overlap(m, start, end) >= m.end - m.start]
        labels.extend(_shifted(m, offset) for m in _best_non_overlapping(inside, per_segment))
    return labels


def write_bed(matches: Sequence[MotifMatch], chrom: str, path: Path) -> Path:
    """Write matches as plain tab-separated BED6, replacing ``path`` atomically.

    Columns: chrom, start, end, name (the label), score (``round(1000 * relative)``, 0..1000),
    strand. No header line. Tabs and line breaks in names become spaces; spaces are allowed in
    a tab-separated BED name and igv.js splits on tabs.

    Args:
        matches: in any order; written sorted by start.
        chrom: the contig name for every line.
        path: the file to create or replace.

    Returns:
        ``path``.
    """
    path = Path(path)
    lines = [
        _bed_line(chrom, match)
        for match in sorted(matches, key=lambda m: (m.start, m.end, m.strand, m.matrix_id))
    ]
    # A temp file in the same directory makes os.replace a rename on one filesystem, so a
    # reader never sees a half-written file.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.writelines(lines)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


class _Scanner:
    """All matrices stacked into one table so a window is scored against all in one matmul.

    The table has a row per (column position, channel) for the widest matrix, channels A, C, G,
    T, N, and a column per (matrix, strand); narrower matrices are padded with zeros, which
    score nothing. The minus-strand copy of a matrix is its reverse complement, aligned to the
    same window start, so both strands report plus-strand coordinates directly.
    """

    def __init__(self, matrices: Sequence[PositionWeightMatrix]) -> None:
        self.matrices = list(matrices)
        self.max_width = max((m.width for m in self.matrices), default=1)
        self.widths = np.array([m.width for m in self.matrices] * 2, dtype=np.int64)  # (2M,)
        low = np.array([m.min_score for m in self.matrices] * 2)
        high = np.array([m.max_score for m in self.matrices] * 2)
        self.low, self.span = low, np.maximum(high - low, 1e-9)  # (2M,)
        self.table = self._stack()  # (max_width * 5, 2M)

    def _stack(self) -> np.ndarray:
        count = len(self.matrices)
        table = np.zeros((self.max_width, 5, 2 * count), dtype=np.float32)
        for index, matrix in enumerate(self.matrices):
            column_mean = matrix.log_odds.mean(axis=1, keepdims=True)  # what N scores
            forward = np.concatenate([matrix.log_odds, column_mean], axis=1)  # (width, 5)
            table[: matrix.width, :, index] = forward
            # Reverse the positions and swap A<->T, C<->G; N stays N.
            table[: matrix.width, :, count + index] = forward[::-1, [3, 2, 1, 0, 4]]
        return table.reshape(self.max_width * 5, 2 * count)

    def scan(self, sequence: str, min_relative: float) -> list[MotifMatch]:
        if not self.matrices or not sequence:
            return []
        windows = self._windows(sequence)  # (L, max_width * 5), a view
        chunk = max(1, _CHUNK_VALUES // self.table.shape[1])
        matches = []
        for first in range(0, len(sequence), chunk):
            scores = windows[first : first + chunk].reshape(-1, self.table.shape[0]) @ self.table
            matches.extend(self._matches(scores, first, len(sequence), min_relative))
        return sorted(matches, key=lambda m: (m.start, -m.relative_score, m.matrix_id, m.strand))

    def _windows(self, sequence: str) -> np.ndarray:
        bases = one_hot(sequence)  # (L, 4)
        unknown = 1.0 - bases.sum(axis=1, keepdims=True)  # (L, 1): 1 where the base is N
        channels = np.concatenate([bases, unknown], axis=1)  # (L, 5)
        # All-zero rows past the end score 0 in every channel; windows reaching them are
        # dropped in _matches anyway.
        padded = np.concatenate([channels, np.zeros((self.max_width - 1, 5), np.float32)])
        view = np.lib.stride_tricks.sliding_window_view(padded, self.max_width, axis=0)
        return view.transpose(0, 2, 1)  # (L, max_width, 5)

    def _matches(
        self, scores: np.ndarray, first: int, length: int, min_relative: float
    ) -> list[MotifMatch]:
        relative = (scores - self.low) / self.span  # (chunk, 2M)
        starts = first + np.arange(scores.shape[0])[:, None]
        hits = (relative >= min_relative - 1e-6) & (starts + self.widths <= length)
        count = len(self.matrices)
        found = []
        for row, column in zip(*np.nonzero(hits), strict=True):
            matrix = self.matrices[column % count]
            start = first + int(row)
            found.append(
                MotifMatch(
                    matrix_id=matrix.matrix_id,
                    name=matrix.name,
                    start=start,
                    end=start + matrix.width,
                    strand="+" if column < count else "-",
                    score=float(scores[row, column]),
                    relative_score=float(relative[row, column]),
                )
            )
        return found


def _connect() -> contextlib.closing[sqlite3.Connection]:
    """A read-only connection to the JASPAR release pyjaspar bundles."""
    # find_spec locates the package without importing it (and Biopython with it).
    spec = importlib.util.find_spec("pyjaspar")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pyjaspar is not installed; it ships the JASPAR database")
    path = Path(spec.submodule_search_locations[0]) / "data" / f"{JASPAR_RELEASE}.sqlite"
    if not path.is_file():
        raise RuntimeError(f"pyjaspar has no {JASPAR_RELEASE} database at {path}")
    # closing(): a sqlite3 connection's own ``with`` block ends a transaction but stays open.
    return contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True))


def _runs_of_equal_ids(rows: list[tuple]) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of rows sharing their first field (the matrix id)."""
    boundaries = [0] + [i for i in range(1, len(rows)) if rows[i][0] != rows[i - 1][0]]
    return list(zip(boundaries, boundaries[1:] + [len(rows)], strict=True)) if rows else []


def _magnitude(importance: np.ndarray) -> np.ndarray:
    values = np.asarray(importance, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"importance must be one value per base, shape (L,), got {values.shape}")
    # A NaN from a saliency pass must not silence the whole window (NaN > x is always False
    # but it would poison the max and the median).
    return np.abs(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0))


def _moving_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Centred mean over ``width`` bases; at the edges, over the bases that exist."""
    if width <= 1 or len(values) == 0:
        return values
    totals = np.concatenate([[0.0], np.cumsum(values)])  # (L + 1,)
    positions = np.arange(len(values))
    lows = np.maximum(positions - width // 2, 0)
    highs = np.minimum(positions - width // 2 + width, len(values))
    return (totals[highs] - totals[lows]) / (highs - lows)


def _importance_threshold(smoothed: np.ndarray, fraction: float, noise_mads: float) -> float:
    if len(smoothed) == 0:
        return math.inf
    median = float(np.median(smoothed))
    mad = 1.4826 * float(np.median(np.abs(smoothed - median)))  # a standard deviation
    return max(fraction * float(smoothed.max()), median + noise_mads * mad)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (half-open) of the runs of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _merge_close(
    starts: np.ndarray, ends: np.ndarray, max_gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted runs at most ``max_gap`` bases apart (0: only touching or overlapping ones)."""
    if len(starts) == 0:
        return starts, ends
    breaks = np.flatnonzero(starts[1:] - ends[:-1] > max_gap)  # run i ends a group at break i
    group_starts = starts[np.concatenate([[0], breaks + 1])]
    group_ends = np.maximum.accumulate(ends)[np.concatenate([breaks, [len(ends) - 1]])]
    return group_starts, group_ends


def _trim_to_strong_bases(
    starts: np.ndarray, ends: np.ndarray, strong: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shrink each run to its first and last strong base; runs with none stay as they are."""
    strong_positions = np.flatnonzero(strong)
    if len(starts) == 0 or len(strong_positions) == 0:
        return starts, ends
    first = np.searchsorted(strong_positions, starts)  # first strong base at or after start
    last = np.searchsorted(strong_positions, ends) - 1  # last strong base before end
    padded = np.concatenate([strong_positions, [np.iinfo(np.int64).max]])
    has_strong = (padded[first] < ends) & (last >= 0)
    trimmed_starts = np.where(has_strong, padded[first], starts)
    trimmed_ends = np.where(has_strong, strong_positions[np.maximum(last, 0)] + 1, ends)
    return trimmed_starts, trimmed_ends


def _strongest(
    starts: np.ndarray, ends: np.ndarray, magnitude: np.ndarray, limit: int
) -> list[tuple[int, int]]:
    totals = np.concatenate([[0.0], np.cumsum(magnitude)])
    strength = totals[ends] - totals[starts]
    # Stable sort on -strength so equal segments keep position order; then back to position.
    keep = np.sort(np.argsort(-strength, kind="stable")[: max(limit, 0)])
    return [(int(starts[i]), int(ends[i])) for i in keep]


def _shifted(match: MotifMatch, by: int, importance: np.ndarray | None = None) -> MotifMatch:
    """The match moved by ``by`` bases; with ``importance``, its signed sum filled in too."""
    start, end = match.start + by, match.end + by
    total = match.importance if importance is None else float(importance[start:end].sum())
    return dataclasses.replace(match, start=start, end=end, importance=total)


def _overlap(match: MotifMatch, start: int, end: int) -> int:
    return max(0, min(match.end, end) - max(match.start, start))


def _best_non_overlapping(matches: list[MotifMatch], count: int) -> list[MotifMatch]:
    ranked = sorted(
        matches,
        # Bits, not relative score: a 5-mer reaches relative 1.0 by chance far more often than
        # a 10-mer, so ranking by relative score labels TATA boxes with short motifs.
        key=lambda m: (-round(m.score, 3), -abs(m.importance), m.start, m.matrix_id),
    )
    chosen: list[MotifMatch] = []
    for match in ranked:
        if len(chosen) == count:
            break
        if all(_overlap(match, other.start, other.end) == 0 for other in chosen):
            chosen.append(match)
    return chosen


def _bed_line(chrom: str, match: MotifMatch) -> str:
    name = re.sub(r"[\t\r\n\x00-\x1f]+", " ", match.label)
    score = min(max(round(1000 * match.relative_score), 0), 1000)
    return f"{chrom}\t{match.start}\t{match.end}\t{name}\t{score}\t{match.strand}\n"
