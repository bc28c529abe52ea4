"""What counts as a real effect: each score against the scores of random SNVs.

A raw score (logSED 0.03 on WT_2.minus) means little by itself; users ask "what cutoff counts as
real?" (calico/borzoi#41). A model's *background* answers it: random SNVs drawn from its genome,
stratified by distance to the nearest gene start (a promoter SNV is compared with promoter
SNVs, not with the many far from any gene), scored once with the model's default settings.

- **Percentile** of a score: the share of background SNVs of the same distance stratum whose
  ``|score|``, on the same track and scorer, is at most this ``|score|`` (0–100). A stratum with
  fewer than ``MIN_STRATUM`` background SNVs is pooled with all of them.
- **Beyond noise**: ``|score|`` above what changing only the window's placement does to the
  same SNV: each background SNV is scored on the shared tiles jobs use and on a window centred on
  it; the noise of a track × scorer is the 95th percentile of ``|shared − centred|`` over them.

The background is a ``.npz`` (``Background.save``) whose sha256 goes into the provenance of
every job it calibrates; ``percentiles`` is reproducible from it alone.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.io.annotation import Gene
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import Variant

if TYPE_CHECKING:  # torch: only where a model runs; the web reads backgrounds too
    from engine.variants.effects import VariantScores

#: bp to the nearest gene start: strata [0, 250), [250, 1,000), [1,000, 5,000), [5,000, ∞)
DISTANCE_EDGES = (250, 1_000, 5_000)
MIN_STRATUM = 50  # fewer background SNVs than this in a stratum: compare with all of them
NOISE_QUANTILE = 0.95
_BASES = "ACGT"


@dataclass(frozen=True)
class Background:
    """Scores of random SNVs for one model: ``values`` ``(N, T, S)`` (shared tiles, as jobs
    score), their distance ``strata`` ``(N,)``, and the placement ``noise`` ``(T, S)``."""

    scorers: list[str]
    track_ids: list[str]
    values: np.ndarray
    strata: np.ndarray
    noise: np.ndarray
    #: how it was made: model, weights and genome sha256, seed, settings (recorded as given)
    about: dict
    edges: tuple[int, ...] = DISTANCE_EDGES

    def save(self, path: Path) -> Path:
        with open(path, "wb") as handle:
            np.savez(
                handle,
                scorers=np.asarray(self.scorers),
                track_ids=np.asarray(self.track_ids),
                values=self.values.astype(np.float32),
                strata=self.strata.astype(np.int64),
                noise=self.noise.astype(np.float32),
                edges=np.asarray(self.edges, np.int64),
                about=np.asarray(json.dumps(self.about, sort_keys=True)),
            )
        return path

    @classmethod
    def load(cls, path: Path) -> Background:
        with np.load(path, allow_pickle=False) as npz:
            return cls(
                [str(s) for s in npz["scorers"]],
                [str(t) for t in npz["track_ids"]],
                npz["values"],
                npz["strata"],
                npz["noise"],
                json.loads(str(npz["about"])),
                tuple(int(e) for e in npz["edges"]),
            )

    def describe(self) -> str:
        """In words, for a page, a provenance record or a VCF header."""
        counts = np.bincount(self.strata, minlength=len(self.edges) + 1)
        strata = ", ".join(
            f"{n:,} at {label}" for n, label in zip(counts, stratum_labels(self.edges), strict=True)
        )
        return (
            f"{len(self.strata):,} random SNVs of {self.about.get('genome', 'the genome')} "
            f"scored by {self.about.get('model', 'the model')} ({strata} from a gene start)"
        )


@dataclass(frozen=True)
class Calibration:
    """``percentile`` ``(V, T, S)`` (nan: unscored, or no background for that track or
    scorer) and ``beyond_noise`` ``(V, T, S)`` bool, for the scores they were made from."""

    percentile: np.ndarray
    beyond_noise: np.ndarray
    #: the background, in words, with its sha256 (``Background.describe``)
    background: str


def stratum_labels(edges: Sequence[int] = DISTANCE_EDGES) -> list[str]:
    bounds = [0, *edges]
    labels = [f"{a:,}–{b:,} bp" for a, b in zip(bounds, bounds[1:], strict=False)]
    return [*labels, f"≥ {bounds[-1]:,} bp"]


# --- strata -----------------------------------------------------------------------------------


def distance_strata(
    variants: Sequence[Variant], genes: Sequence[Gene], edges: Sequence[int] = DISTANCE_EDGES
) -> np.ndarray:
    """``(V,)`` stratum of each variant's distance to its contig's nearest gene start
    (strand-aware: ``Gene.tss``); a contig without genes is in the last, farthest stratum."""
    starts = gene_starts(genes)
    distance = np.full(len(variants), np.iinfo(np.int64).max, np.int64)
    by_chrom: dict[str, list[int]] = {}
    for index, variant in enumerate(variants):
        by_chrom.setdefault(variant.chrom, []).append(index)
    for chrom, indices in by_chrom.items():
        if chrom in starts:
            where = np.asarray([variants[i].start for i in indices], np.int64)
            distance[indices] = _nearest_distance(starts[chrom], where)
    return np.searchsorted(np.asarray(edges, np.int64), distance, side="right")


def gene_starts(genes: Sequence[Gene]) -> dict[str, np.ndarray]:
    """Per contig, its genes' start positions (``Gene.tss``), sorted."""
    starts: dict[str, list[int]] = {}
    for gene in genes:
        starts.setdefault(gene.chrom, []).append(gene.tss)
    return {chrom: np.sort(np.asarray(s, np.int64)) for chrom, s in starts.items()}


def _nearest_distance(sorted_points: np.ndarray, positions: np.ndarray) -> np.ndarray:
    right = np.clip(np.searchsorted(sorted_points, positions), 0, len(sorted_points) - 1)
    left = np.clip(right - 1, 0, len(sorted_points) - 1)
    return np.minimum(
        np.abs(sorted_points[right] - positions), np.abs(sorted_points[left] - positions)
    )


# --- the draw ---------------------------------------------------------------------------------


def draw_null_snvs(
    genome: Genome,
    genes: Sequence[Gene],
    per_stratum: int,
    seed: int,
    edges: Sequence[int] = DISTANCE_EDGES,
) -> tuple[list[Variant], np.ndarray]:
    """Random SNVs (uniform over the genome, on A/C/G/T only, a random other base), kept until
    each distance stratum holds ``per_stratum`` or 200 × the total draws were tried (a genome
    may have too few far positions: such a stratum stays short). Returns them sorted by
    position, with their strata."""
    rng = random.Random(seed)
    lengths = genome.contig_lengths
    contigs, weights = list(lengths), list(lengths.values())
    starts, bounds = gene_starts(genes), np.asarray(edges, np.int64)
    wanted = len(edges) + 1
    kept: list[list[Variant]] = [[] for _ in range(wanted)]
    for _ in range(200 * per_stratum * wanted):
        if all(len(k) >= per_stratum for k in kept):
            break
        chrom = rng.choices(contigs, weights)[0]
        start = rng.randrange(lengths[chrom])
        ref = genome.fetch(Interval(chrom, start, start + 1)).upper()
        if ref not in _BASES:
            continue
        alt = rng.choice([b for b in _BASES if b != ref])
        variant = Variant(chrom, start, ref, alt, f"null{sum(map(len, kept))}", 0)
        stratum = int(np.searchsorted(bounds, _distance(starts, chrom, start), "right"))
        if len(kept[stratum]) < per_stratum:
            kept[stratum].append(variant)
    pairs = sorted(
        ((v, s) for s, found in enumerate(kept) for v in found),
        key=lambda pair: (pair[0].chrom, pair[0].start),
    )
    return [v for v, _ in pairs], np.asarray([s for _, s in pairs], np.int64)


def _distance(starts: dict[str, np.ndarray], chrom: str, position: int) -> int:
    """bp from ``position`` to the nearest gene start on ``chrom`` (no gene: very far)."""
    if chrom not in starts:
        return int(np.iinfo(np.int64).max)
    return int(_nearest_distance(starts[chrom], np.asarray([position]))[0])


def placement_noise(shared: np.ndarray, centred: np.ndarray) -> np.ndarray:
    """``(T, S)``: the ``NOISE_QUANTILE`` of ``|shared − centred|`` over the SNVs."""
    return np.nanquantile(np.abs(shared - centred), NOISE_QUANTILE, axis=0).astype(np.float32)


def build_background(
    model,
    genome: Genome,
    genes: Sequence[Gene],
    *,
    scorers: Sequence[str],
    tracks: Sequence[int],
    track_ids: Sequence[str],
    per_stratum: int,
    seed: int,
    about: dict,
    batch_size: int = 8,
) -> Background:
    """Draw the null SNVs and score them twice with ``model`` (an ensemble with the model's
    default settings): on shared tiles, as jobs do (the background's values), and centred
    (for the placement noise)."""
    from engine.variants.effects import score_variants

    variants, strata = draw_null_snvs(genome, genes, per_stratum, seed)
    if not variants:
        raise ValueError("no SNV could be drawn from this genome")
    placed = {}
    for placement, step in (("shared", None), ("centred", 1)):
        placed[placement] = score_variants(
            model,
            genome,
            variants,
            scorers=scorers,
            tracks=tracks,
            batch_size=batch_size,
            window_step=step,
        ).scores
    shared = placed["shared"]
    return Background(
        list(scorers),
        list(track_ids),
        shared,
        strata,
        placement_noise(shared, placed["centred"]),
        about | {"seed": seed, "per_stratum": per_stratum, "snvs": len(variants)},
    )


# --- calibration ------------------------------------------------------------------------------


def calibrate(
    background: Background,
    values: np.ndarray,
    strata: np.ndarray,
    scorers: Sequence[str],
    track_ids: Sequence[str],
    label: str,
) -> Calibration:
    """Percentiles and beyond-noise flags of ``values`` ``(V, T, S)`` (``scorers`` on
    ``track_ids``) against ``background``; ``strata`` ``(V,)`` from ``distance_strata``.

    A track or scorer the background lacks gets nan percentiles and no flag.
    """
    percentile = np.full(values.shape, np.nan, np.float32)
    beyond = np.zeros(values.shape, bool)
    magnitude = np.abs(values)
    pooled = np.bincount(background.strata, minlength=len(background.edges) + 1) < MIN_STRATUM
    for t, track in enumerate(track_ids):
        if track not in background.track_ids:
            continue
        bt = background.track_ids.index(track)
        for s, scorer in enumerate(scorers):
            if scorer not in background.scorers:
                continue
            bs = background.scorers.index(scorer)
            null = np.abs(background.values[:, bt, bs])
            percentile[:, t, s] = _percentiles(
                null, background.strata, pooled, magnitude[:, t, s], strata
            )
            beyond[:, t, s] = magnitude[:, t, s] > background.noise[bt, bs]
    percentile[np.isnan(values)] = np.nan
    return Calibration(percentile, beyond, label)


def _percentiles(
    null: np.ndarray,
    null_strata: np.ndarray,
    pooled: np.ndarray,
    magnitude: np.ndarray,
    strata: np.ndarray,
) -> np.ndarray:
    """100 × the share of the stratum's (or, for a pooled stratum, all) null magnitudes
    ``≤`` each magnitude."""
    found = np.full(len(magnitude), np.nan, np.float32)
    everyone = np.sort(null[~np.isnan(null)])
    for stratum in np.unique(strata).tolist():
        rows = strata == stratum
        if not pooled[stratum]:
            same = null[null_strata == stratum]
            reference = np.sort(same[~np.isnan(same)])
        else:
            reference = everyone
        if len(reference):
            found[rows] = (
                100 * np.searchsorted(reference, magnitude[rows], "right") / len(reference)
            )
    return found


def calibrate_scores(
    scores: VariantScores,
    background: Background,
    track_ids: Sequence[str],
    genes: Sequence[Gene],
    label: str,
) -> VariantScores:
    """``scores`` carrying their ``Calibration`` against ``background`` (``track_ids`` name
    ``scores.tracks``; ``genes``, the genome's annotation, place each variant in a stratum;
    ``label`` names the background in the exports)."""
    strata = distance_strata(scores.variants, genes, background.edges)
    calibration = calibrate(background, scores.scores, strata, scores.scorers, track_ids, label)
    return replace(scores, calibration=calibration)
