"""Prediction reuse: one allele's scores kept under a key of everything that changes them, so a
later job with the same model weights, genome and settings takes them instead of predicting.

The key (``settings_key``) is a sha256 of the model's weights sha256s, the genome FASTA's
sha256 (and the annotation's when gene scores are on), the window geometry (sequence length,
bins, crop, tile step), the ensembling (reverse complement, shifts, replicates), the pseudocount
rule, the gene region, the device type (bf16 on CUDA, float32 on CPU) and ``SCORING_VERSION``;
``allele_key`` adds the allele (contig, 0-based start, REF, ALT). Tracks and scorers are not in
the key: an entry records which it holds (``Layout``), and a job whose tracks and scorers are a
subset of an entry's takes its slice. The engine keeps scores, not the predicted coverage, so a
track or scorer no entry holds needs new forward passes.

Windows sit on a fixed tile grid, so an allele is scored in the same window whatever it is
submitted with; the float32 arithmetic of a batch still depends on its other members in the
last bits (about 1e-6 relative on CPU). A reused score is bit for bit the one an earlier job
computed and stored for that allele; a from-scratch run of another VCF can differ from it by
that rounding, as it already could from any other job scoring the same allele.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.io.annotation import Gene
from engine.io.vcf import Variant
from engine.variants.effects import GeneScores, VariantScores

#: Bump when a change to the scoring code changes any number it computes: earlier entries then
#: no longer match.
SCORING_VERSION = 1


class Reuse(Protocol):
    """Where a job finds and keeps its alleles' scores (the worker's store in the database)."""

    def find(self, variants: list[Variant]) -> tuple[dict[int, AlleleScores], int]:
        """The stored scores of ``variants`` (by index) in the job's layout, and how many of the
        others are stored only with other tracks or scorers."""
        ...

    def keep(self, variants: list[Variant], scores: VariantScores) -> None:
        """Store the scored alleles of ``variants`` (``scores`` in their order)."""
        ...


def settings_key(settings: Mapping[str, object]) -> str:
    """sha256 (hex) of the scoring settings that change a number (plain JSON data)."""
    text = json.dumps({"version": SCORING_VERSION, **settings}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def allele_key(settings: str, variant: Variant) -> str:
    """The reuse key of one allele: its ``settings_key`` and where and what it is."""
    text = f"{settings}\t{variant.chrom}\t{variant.start}\t{variant.ref}\t{variant.alt}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Layout:
    """The tracks (identifiers) and scorers an entry holds, in its order."""

    tracks: tuple[str, ...]
    scorers: tuple[str, ...]

    def covers(self, tracks: Sequence[str], scorers: Sequence[str]) -> bool:
        return set(tracks) <= set(self.tracks) and set(scorers) <= set(self.scorers)


@dataclass(frozen=True)
class StoredAllele:
    """One allele's numbers as stored: ``payload`` float32 bytes (scores and spread ``(T, S)``,
    ref and alt sums ``(T,)``, then SED, logSED and spread of each gene row) and ``genes``, one
    ``[gene id, track position]`` per gene row."""

    layout: Layout
    payload: bytes
    genes: list


@dataclass(frozen=True)
class AlleleScores:
    """One allele's numbers in a job's layout: ``scores``/``spread`` ``(T, S)``, sums ``(T,)``,
    and gene rows as ``(gene index, track position, sed, log_sed, spread)``."""

    scores: np.ndarray
    spread: np.ndarray
    ref_sum: np.ndarray
    alt_sum: np.ndarray
    gene_rows: list[tuple[int, int, float, float, float]]


def pack(scores: VariantScores, index: int) -> tuple[bytes, list]:
    """Allele ``index`` of ``scores`` as ``StoredAllele`` payload and gene rows."""
    gene = scores.gene_scores
    first, stop = np.searchsorted(gene.variant, [index, index + 1])  # sorted by variant
    positions = {track: i for i, track in enumerate(scores.tracks)}
    rows = range(first, stop)
    floats = [
        scores.scores[index].ravel(),
        scores.spread[index].ravel(),
        scores.ref_sum[index],
        scores.alt_sum[index],
        np.stack([gene.sed[rows], gene.log_sed[rows], gene.log_sed_spread[rows]], 1).ravel(),
    ]
    genes = [[scores.genes[gene.gene[r]].gene_id, positions[int(gene.track[r])]] for r in rows]
    return np.concatenate(floats).astype(np.float32).tobytes(), genes


def unpack(
    stored: StoredAllele, tracks: Sequence[str], scorers: Sequence[str], genes: Mapping[str, int]
) -> AlleleScores | None:
    """``stored`` sliced to a job's ``tracks`` and ``scorers`` (a subset of its layout);
    ``genes`` maps gene ids to the job's gene indices. None when a gene is not the job's."""
    layout = stored.layout
    t, s = len(layout.tracks), len(layout.scorers)
    values = np.frombuffer(stored.payload, dtype=np.float32)
    if len(values) != 2 * t * s + 2 * t + 3 * len(stored.genes):
        return None
    keep = np.array([layout.tracks.index(track) for track in tracks], dtype=np.int64)
    pick = np.array([layout.scorers.index(name) for name in scorers], dtype=np.int64)
    at = {old: new for new, old in enumerate(keep.tolist())}
    grid = values[: 2 * t * s].reshape(2, t, s)[:, keep][:, :, pick]
    sums = values[2 * t * s : 2 * t * s + 2 * t].reshape(2, t)[:, keep]
    per_gene = values[2 * t * s + 2 * t :].reshape(-1, 3)
    rows = []
    for (gene_id, position), (sed, log_sed, spread) in zip(stored.genes, per_gene, strict=True):
        if gene_id not in genes:
            return None
        if position in at:
            rows.append((genes[gene_id], at[position], sed, log_sed, spread))
    return AlleleScores(grid[0].copy(), grid[1].copy(), sums[0].copy(), sums[1].copy(), rows)


def merge(
    variants: list[Variant],
    found: Mapping[int, AlleleScores],
    missing: list[int],
    computed: VariantScores,
) -> VariantScores:
    """The scores of ``variants``: those in ``found`` (by index) as stored, the ``missing``
    ones from ``computed`` (scored in that order). Gene rows come out ordered as the engine
    orders them (variant, gene, track)."""
    shape = (len(variants), *computed.scores.shape[1:])
    scores, spread = np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32)
    ref_sum = np.full(shape[:2], np.nan, np.float32)
    alt_sum = np.full(shape[:2], np.nan, np.float32)
    place = np.asarray(missing, dtype=np.int64)
    scores[place], spread[place] = computed.scores, computed.spread
    ref_sum[place], alt_sum[place] = computed.ref_sum, computed.alt_sum
    gene = computed.gene_scores
    tracks = np.asarray(computed.tracks, dtype=np.int64)
    stored = [
        (index, g, tracks[position], sed, log_sed, row_spread)
        for index, allele in found.items()
        for g, position, sed, log_sed, row_spread in allele.gene_rows
    ]
    for index, allele in found.items():
        scores[index], spread[index] = allele.scores, allele.spread
        ref_sum[index], alt_sum[index] = allele.ref_sum, allele.alt_sum
    computed_rows = [place[gene.variant], gene.gene, gene.track]
    computed_rows += [gene.sed, gene.log_sed, gene.log_sed_spread]
    columns = [
        np.concatenate([mine, np.asarray([row[k] for row in stored], dtype=mine.dtype)])
        for k, mine in enumerate(computed_rows)
    ]
    order = np.lexsort((columns[2], columns[1], columns[0]))
    variant, g, track, sed, log_sed, row_spread = (column[order] for column in columns)
    return VariantScores(
        variants,
        computed.scorers,
        computed.tracks,
        scores,
        ref_sum,
        alt_sum,
        computed.genes,
        GeneScores(variant, g, track, sed, log_sed, row_spread),
        sorted(missing[i] for i in computed.unscored),
        computed.gene_region,
        spread,
        computed.replicates,
        computed.pseudocount,
    )


def gene_indices(genes: Sequence[Gene] | None) -> dict[str, int]:
    return {gene.gene_id: i for i, gene in enumerate(genes or [])}
