"""Variant effects: reference and alternative windows through a model, then scored.

Window placement (one reference pass per window)
    ``naive_score_variants`` centres a window on each variant and predicts its reference and
    alternative: two passes per allele (each × RC × shifts × replicates, inside the Ensemble).
    The engine, ``score_variants``, lays a fixed grid of tiles of ``window_step`` bp (by default
    a quarter of the output span, on the bin grid) along each contig, and scores every variant
    of a tile in the window centred on that tile. One reference prediction then serves all of
    them and each allele costs one pass (two for an indel). A variant is at most
    ``window_step / 2`` from its window's centre, so it keeps at least 3/8 of the output span of
    output bins on each side (2,304 bp for the yeast demo, 73,728 bp for Borzoi), plus the
    cropped context. The grid depends only on the contig, never on the other variants in the
    file, so a variant scores the same whatever it is submitted with. (Calico's
    ``cluster_snps`` instead centres one window on each cluster of nearby variants, so there a
    score depends on its neighbours.) With ``window_step=1`` every window is centred on its
    variant, as in the naive version.

    Where a variant sits in its window matters to a model with max-pooling: for the demo model,
    logSEDs of tiled and of centred windows correlate 0.77, and 0.89 once each is averaged over
    shifts of 0 and 1 bp (both pairings of its first pool); ``bench/bench_variant_effects.py``
    prints both. So the spread is the model's sensitivity to the input's phase, which shift
    ensembling averages out, rather than an error of either placement.

Fast path for substitutions
    A model that implements ``predict_substitutions`` (the demo model) keeps its reference
    pass's intermediate state and recomputes, for an SNV or MNV, only the convolutions whose
    inputs the change reaches; indels move every downstream base and run whole windows.

Indels (fixed window length, bins aligned to the reference)
    The window keeps its length: an insertion trims the flank, a deletion extends it with more
    genome sequence (N only off the contig). Each indel gets two alternative sequences: one
    anchored left (the sequence left of the variant sits where it sits in the reference) and one
    anchored right (the sequence right of the REF allele does). The alternative prediction is
    stitched at the variant's bin: bins left of it from the left-anchored prediction, the bin
    itself and those right of it from the right-anchored one, so every bin away from the variant
    compares the same genome sequence in ref and alt (MODEL_NOTES: "extra shifts of ± indel size
    and the left/right predictions stitched at the variant's bin").

Alternative one-hots are gathered on the model's device from the reference windows (fetched
once per window, with margin for deletions) and a small table of ALT bases, and scores are
reduced there too (``engine.variants.scorers``): only ``(alleles, tracks)`` values come back.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from engine.io.annotation import Gene
from engine.io.encoding import one_hot, one_hot_batch
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.models.base import EXONS, ModelAdapter
from engine.models.ensemble import Ensemble
from engine.models.runtime import autocast, run_batched, run_packed
from engine.variants.scorers import SCORERS, gene_region_bins, gene_scores, score_all, strand_mask
from engine.variants.windows import window_step

if TYPE_CHECKING:  # the background module scores with this one
    from engine.variants.background import Calibration

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], object]  # progress(alleles done, alleles in total)
SUMS = ("REF", "ALT")  # always computed, reported as ref_sum and alt_sum


@dataclass(frozen=True)
class GeneScores:
    """Gene-level SED and logSED, one entry per (variant, gene, strand-matched track) for the
    genes with exon bins in the variant's window. All arrays are ``(N,)``."""

    variant: np.ndarray  # int64, index into VariantScores.variants
    gene: np.ndarray  # int64, index into VariantScores.genes
    track: np.ndarray  # int64, the model's track index
    sed: np.ndarray  # float32
    log_sed: np.ndarray  # float32
    #: float32, the replicates' standard deviation (nan for one replicate; None: all nan)
    log_sed_spread: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.log_sed_spread is None:
            object.__setattr__(self, "log_sed_spread", np.full_like(self.log_sed, np.nan))


@dataclass(frozen=True)
class VariantScores:
    """Scores of every allele, in the order the variants were given.

    ``scores`` is ``(V, T, S)`` float32 for ``scorers`` on the model tracks ``tracks``;
    ``ref_sum`` and ``alt_sum`` are ``(V, T)`` (ΣR, ΣA over the window's bins). Alleles listed in
    ``unscored`` (longer than ``max_allele_bp``) have nan rows. Each score is the mean of the
    model's replicates' scores; ``spread`` ``(V, T, S)`` is their standard deviation (n − 1),
    nan for a model of one replicate.
    """

    variants: list[Variant]
    scorers: list[str]
    tracks: list[int]
    scores: np.ndarray
    ref_sum: np.ndarray
    alt_sum: np.ndarray
    genes: list[Gene]
    gene_scores: GeneScores
    unscored: list[int]
    #: what the gene-level scores sum, in words (``GeneRegion.describe``)
    gene_region: str = EXONS.describe()
    spread: np.ndarray | None = None  # None: filled with nan
    replicates: int = 1
    #: the log scores' pseudocount, in words (``ModelAdapter.describe_pseudocount``)
    pseudocount: str = "1 count"
    #: percentiles and beyond-noise flags against a background
    #: (``engine.variants.background.calibrate_scores``); None: not calibrated
    calibration: Calibration | None = None

    def __post_init__(self) -> None:
        if self.spread is None:
            object.__setattr__(self, "spread", np.full_like(self.scores, np.nan))


def scores_to_arrays(scores: VariantScores) -> dict[str, np.ndarray]:
    """The numbers of ``scores`` as plain arrays (for ``np.savez``); the alleles and genes
    themselves are left out: ``scores_from_arrays`` is given them again."""
    gene = scores.gene_scores
    return {
        "scorers": np.asarray(scores.scorers),
        "tracks": np.asarray(scores.tracks, dtype=np.int64),
        "scores": scores.scores,
        "ref_sum": scores.ref_sum,
        "alt_sum": scores.alt_sum,
        "unscored": np.asarray(scores.unscored, dtype=np.int64),
        "gene_variant": gene.variant,
        "gene_gene": gene.gene,
        "gene_track": gene.track,
        "gene_sed": gene.sed,
        "gene_log_sed": gene.log_sed,
        "gene_log_sed_spread": gene.log_sed_spread,
        "gene_region": np.asarray(scores.gene_region),
        "spread": scores.spread,
        "replicates": np.int64(scores.replicates),
        "pseudocount": np.asarray(scores.pseudocount),
    }


def scores_from_arrays(
    parts: Sequence[Mapping[str, np.ndarray]], variants: list[Variant], genes: Sequence[Gene]
) -> VariantScores:
    """Scores of consecutive parts of ``variants`` (each from ``scores_to_arrays``), joined."""
    offsets = np.cumsum([0] + [len(part["scores"]) for part in parts[:-1]])
    if sum(len(part["scores"]) for part in parts) != len(variants):
        raise ValueError("the parts do not cover the variants")

    def joined(name: str, shift: bool = False) -> np.ndarray:
        arrays = [p[name] + (o if shift else 0) for p, o in zip(parts, offsets, strict=True)]
        return np.concatenate(arrays)

    return VariantScores(
        variants,
        [str(name) for name in parts[0]["scorers"]],
        [int(track) for track in parts[0]["tracks"]],
        joined("scores"),
        joined("ref_sum"),
        joined("alt_sum"),
        list(genes),
        GeneScores(
            joined("gene_variant", shift=True),
            joined("gene_gene"),
            joined("gene_track"),
            joined("gene_sed"),
            joined("gene_log_sed"),
            joined("gene_log_sed_spread"),
        ),
        [int(i) for i in joined("unscored", shift=True)],
        str(parts[0]["gene_region"]),
        joined("spread"),
        int(parts[0]["replicates"]),
        # results stored before the pseudocount was recorded all used one count
        str(parts[0]["pseudocount"]) if "pseudocount" in parts[0] else "1 count",
    )


@dataclass(frozen=True)
class Window:
    """One model input window and the variants (indices into the input list) scored in it."""

    chrom: str
    start: int
    members: tuple[int, ...]


# --- window placement -------------------------------------------------------------------------


def default_window_step(model: ModelAdapter) -> int:
    """A quarter of the output span, rounded down to whole bins (at least one bin)."""
    return window_step(model.output_bins, model.bin_size)


def window_start(position: int, sequence_length: int, step: int) -> int:
    """Start of the input window scoring a variant at ``position``: centred on its tile."""
    centre = position // step * step + step // 2
    return centre - sequence_length // 2


def max_allele_bp(model: ModelAdapter, step: int) -> int:
    """The longest REF or ALT that stays inside the output bins wherever it sits in its tile."""
    return (model.output_bins * model.bin_size - step) // 2


def plan_windows(
    variants: Sequence[Variant], sequence_length: int, step: int, indices: Sequence[int]
) -> list[Window]:
    """Group the variants ``indices`` by (contig, tile); windows come out sorted by contig and
    position, members by position."""

    def tile(i: int) -> tuple[str, int]:
        return variants[i].chrom, variants[i].start // step

    order = sorted(indices, key=lambda i: (*tile(i), variants[i].start, i))
    return [
        Window(chrom, window_start(index * step, sequence_length, step), tuple(members))
        for (chrom, index), members in itertools.groupby(order, key=tile)
    ]


# Forward passes a chunk fills at least; only its last may be part-filled. At a genome-wide
# VCF's density (bench/bench_260k.py, ~35 alleles a yeast window) 3 left 8 % of the batches'
# rows empty, 16 leaves 2 %: 5 % fewer forward calls, ~4 % less model time on yeast-cheap.
# A chunk still holds at most ``batch_size`` windows (their reference predictions).
CHUNK_BATCHES = 16


def _chunks(
    windows: Sequence[Window], variants: Sequence[Variant], batch_size: int
) -> Iterator[list[Window]]:
    """Consecutive windows whose sequences (a reference per window, one per allele, two per
    indel) fill at least ``CHUNK_BATCHES`` forward passes of ``batch_size``, or
    ``batch_size`` windows (the reference predictions a chunk holds); the last may be less.
    Several batches per chunk leave only its last pass part-filled."""
    chunk: list[Window] = []
    sequences = 0
    for window in windows:
        chunk.append(window)
        sequences += 1 + sum(_sequences_of(variants[i]) for i in window.members)
        if sequences >= CHUNK_BATCHES * batch_size or len(chunk) >= batch_size:
            yield chunk
            chunk, sequences = [], 0
    if chunk:
        yield chunk


def _sequences_of(variant: Variant) -> int:
    """Alternative sequences an allele runs: an indel's two anchorings, else one."""
    return 1 if len(variant.ref) == len(variant.alt) else 2


# --- shared pieces ----------------------------------------------------------------------------


def _predict(model: ModelAdapter, onehot: Tensor, tracks: list[int] | None) -> Tensor:
    """``(B, L, 4)`` → ``(B, bins, T)`` float32 counts.

    Under ``runtime.autocast`` like every prediction of the worker: bf16 on CUDA, whose ~3
    significant digits per bin are noise in ``A − R`` for small effects; scores themselves are
    always reduced in float32.
    """
    with autocast(model.device):
        return model.predict(onehot, tracks).float()


def _predict_reference(
    model: ModelAdapter, onehot: Tensor, tracks: list[int] | None
) -> tuple[Tensor, object]:
    """``_predict`` that also keeps the model's state for ``predict_substitutions``."""
    with autocast(model.device):
        pred, state = model.predict_reference(onehot, tracks)
    return pred.float(), state


class _GeneIndex:
    """Finds the genes overlapping a window quickly (sorted starts per contig)."""

    def __init__(self, genes: Sequence[Gene]) -> None:
        self.genes = list(genes)
        self._rows: dict[str, np.ndarray] = {}
        self._starts: dict[str, np.ndarray] = {}
        self._longest: dict[str, int] = {}
        for chrom in {gene.chrom for gene in self.genes}:
            rows = [i for i, gene in enumerate(self.genes) if gene.chrom == chrom]
            rows.sort(key=lambda i: self.genes[i].start)
            self._rows[chrom] = np.array(rows)
            self._starts[chrom] = np.array([self.genes[i].start for i in rows])
            self._longest[chrom] = max(self.genes[i].end - self.genes[i].start for i in rows)

    def overlapping(self, interval: Interval) -> list[int]:
        if interval.chrom not in self._rows:
            return []
        starts = self._starts[interval.chrom]
        low = np.searchsorted(starts, interval.start - self._longest[interval.chrom])
        high = np.searchsorted(starts, interval.end)
        rows = self._rows[interval.chrom][low:high]
        return [int(i) for i in rows if self.genes[i].end > interval.start]


class _Results:
    """Output arrays filled allele by allele (input order), and the gene-level entries."""

    def __init__(
        self, variants: Sequence[Variant], scorers: list[str], tracks: list[int], replicates: int
    ):
        self.variants, self.scorers, self.tracks = list(variants), scorers, tracks
        self.replicates = replicates
        shape = (len(variants), len(tracks), len(scorers) + 2)
        self.values = np.full(shape, np.nan, np.float32)
        self.spread = np.full(shape, np.nan, np.float32)
        self.gene_parts: list[tuple[np.ndarray, ...]] = []
        self.unscored: list[int] = []

    def add(self, variants: np.ndarray, values: np.ndarray, spread: np.ndarray) -> None:
        """``values``, ``spread``: ``(n, T, S + 2)``, the scorers then REF and ALT."""
        self.values[variants] = values
        self.spread[variants] = spread

    def add_genes(
        self,
        variants: np.ndarray,
        genes: np.ndarray,
        keep: np.ndarray,
        sed: np.ndarray,
        log_sed: np.ndarray,
        log_sed_spread: np.ndarray,
    ) -> None:
        """``keep``, ``sed``, ``log_sed``, ``log_sed_spread``: ``(n, G, T)`` for the ``genes``
        (indices, ``(G,)``)."""
        allele, gene, track = np.nonzero(keep)
        self.gene_parts.append(
            (
                variants[allele],
                genes[gene],
                np.asarray(self.tracks)[track],
                sed[allele, gene, track],
                log_sed[allele, gene, track],
                log_sed_spread[allele, gene, track],
            )
        )

    def finish(self, setup: _Setup) -> VariantScores:
        parts = [np.concatenate(p) for p in zip(*self.gene_parts, strict=True)]
        if not parts:
            parts = [np.zeros(0, np.int64)] * 3 + [np.zeros(0, np.float32)] * 3
        order = np.lexsort((parts[2], parts[1], parts[0]))
        variant, gene, track, sed, log_sed, log_sed_spread = (part[order] for part in parts)
        return VariantScores(
            self.variants,
            self.scorers,
            self.tracks,
            self.values[..., :-2],
            self.values[..., -2],
            self.values[..., -1],
            list(setup.genes.genes),
            GeneScores(
                variant.astype(np.int64),
                gene.astype(np.int64),
                track.astype(np.int64),
                sed.astype(np.float32),
                log_sed.astype(np.float32),
                log_sed_spread.astype(np.float32),
            ),
            sorted(self.unscored),
            setup.model.gene_region.describe(),
            self.spread[..., :-2],
            self.replicates,
            setup.model.describe_pseudocount(),
        )


def _replicate_passes(model: ModelAdapter) -> list[list[ModelAdapter]]:
    """The passes scored one by one, grouped by replicate: an ensemble's own, or the model."""
    if isinstance(model, Ensemble):
        return model.passes_by_replicate()
    return [[model]]


def _over_replicates(
    passes: list[list[ModelAdapter]], score: Callable[[ModelAdapter], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``score`` of every pass, averaged within each replicate; then the replicates' mean and
    standard deviation (n − 1; nan for one replicate)."""
    stacked = np.stack([np.mean([score(one) for one in group], axis=0) for group in passes])
    if len(stacked) == 1:
        return stacked[0], np.full_like(stacked[0], np.nan)
    return stacked.mean(axis=0), stacked.std(axis=0, ddof=1)


@dataclass
class _Setup:
    """What both implementations need: the model's tracks, the genes, the size limits."""

    model: ModelAdapter
    scorers: list[str]
    tracks: list[int]
    genes: _GeneIndex
    step: int
    passes: list[list[ModelAdapter]]  # scored one by one, grouped by replicate
    pseudocount: np.ndarray  # (T,) the log scores' pseudocount on each scored track

    @classmethod
    def make(
        cls,
        model: ModelAdapter,
        scorers: Sequence[str],
        tracks: Sequence[int] | None,
        genes: Sequence[Gene] | None,
        step: int | None,
    ) -> _Setup:
        unknown = [name for name in scorers if name not in SCORERS]
        if unknown:
            raise ValueError(f"unknown scorers: {', '.join(unknown)} (known: {', '.join(SCORERS)})")
        step = default_window_step(model) if step is None else step
        if not 1 <= step <= model.output_bins * model.bin_size // 2:
            raise ValueError(f"window_step must be 1 … half the output span, got {step}")
        tracks = list(range(len(model.tracks))) if tracks is None else list(tracks)
        genes_index = _GeneIndex(genes or [])
        return cls(
            model,
            list(scorers),
            tracks,
            genes_index,
            step,
            _replicate_passes(model),
            model.log_pseudocounts(tracks),
        )

    @property
    def names(self) -> list[str]:
        return [*self.scorers, *SUMS]

    def output(self, chrom: str, start: int) -> Interval:
        """The genome interval of the output bins of the window starting at ``start``."""
        first = start + self.model.crop_bp
        return Interval(chrom, first, first + self.model.output_bins * self.model.bin_size)

    def is_scorable(self, variant: Variant) -> bool:
        return max(len(variant.ref), len(variant.alt)) <= max_allele_bp(self.model, self.step)

    def nearby_genes(self, output: Interval) -> list[int]:
        """The genes whose scored region (body, or start window) may reach ``output``."""
        reach = self.model.gene_region.reach
        return self.genes.overlapping(
            Interval(output.chrom, output.start - reach, output.end + reach)
        )

    def gene_bins(self, genes: Sequence[Gene], output: Interval) -> np.ndarray:
        return gene_region_bins(genes, output, self.model.bin_size, self.model.gene_region)

    def strand_mask(self, genes: Sequence[int]) -> np.ndarray:
        tracks = [self.model.tracks.tracks[t] for t in self.tracks]
        return strand_mask([self.genes.genes[g] for g in genes], tracks)  # (G, T)


# --- the engine -------------------------------------------------------------------------------


def score_variants(
    model: ModelAdapter,
    genome: Genome,
    variants: Sequence[Variant],
    *,
    scorers: Sequence[str],
    tracks: Sequence[int] | None = None,
    genes: Sequence[Gene] | None = None,
    batch_size: int = 8,
    window_step: int | None = None,
    progress: Progress | None = None,
) -> VariantScores:
    """Score every allele, sharing one reference prediction per window (see the module doc).

    Args:
        model: an adapter, usually ``runtime.ensemble(...)``: reverse complement, shifts and
            replicates are averaged there, before scoring.
        genome: the reference the variants were validated against.
        variants: alleles (multi-allelic records already split), in any order.
        scorers: names from ``engine.variants.scorers.SCORERS``.
        tracks: model track indices to score; all when None.
        genes: genes for the gene-level SED and logSED; none when None.
        batch_size: alleles per forward pass (an indel runs two sequences); halved on CUDA
            out-of-memory.
        window_step: the tile size in bp; ``default_window_step(model)`` when None.
        progress: called as ``progress(done, total)`` in alleles: once before the first
            window, then after every batch of every pass (``_Tally``).

    Returns:
        Scores in the order of ``variants``.
    """
    setup = _Setup.make(model, scorers, tracks, genes, window_step)
    results = _Results(variants, setup.scorers, setup.tracks, len(setup.passes))
    scorable = [i for i, variant in enumerate(variants) if setup.is_scorable(variant)]
    results.unscored = sorted(set(range(len(variants))) - set(scorable))
    windows = plan_windows(variants, model.sequence_length, setup.step, scorable)
    logger.info("%d alleles in %d windows", len(scorable), len(windows))
    tally = _Tally(progress, len(scorable), sum(len(group) for group in setup.passes))
    tally.reach(0)  # the start of the work itself, after loading: rates are measured from here
    done = 0
    with torch.inference_mode():
        for chunk in _chunks(windows, variants, batch_size):
            made = _make_chunk(setup, genome, variants, chunk)
            _score_chunk(setup, made, results, batch_size, tally)
            done += sum(len(window.members) for window in chunk)
            tally.reach(done)
    return results.finish(setup)


class _Tally:
    """Alleles scored so far, reported after every batch of every pass. One chunk of dense
    windows can hold most of a job's alleles, so counting only whole chunks moved the bar in a
    few jumps (7 % after 64 s, then 100 % at 280 s). The caller throttles what it records."""

    def __init__(self, progress: Progress | None, total: int, passes: int) -> None:
        self.progress, self.total, self.passes = progress, total, passes
        self.done = 0.0  # a batch of one pass is 1 / passes of each of its alleles

    def counting(
        self, scorer: Callable[[Tensor], Tensor], passes: int
    ) -> Callable[[Tensor], Tensor]:
        """``scorer`` of ``passes`` passes, counting each batch once it is scored (a batch
        retried smaller after out-of-memory counts once)."""

        def counted(items: Tensor) -> Tensor:
            scores = scorer(items)  # a row per allele among the items
            self.reach(self.done + len(scores) * passes / self.passes)
            return scores

        return counted

    def reach(self, done: float) -> None:
        # Batches are counted as they finish, chunks as whole alleles: the two counts can
        # disagree by a batch, and a progress bar must never move back.
        self.done = max(self.done, done)
        if self.progress:
            self.progress(min(int(self.done), self.total), self.total)


@dataclass(frozen=True)
class _Chunk:
    """A few consecutive windows and their alleles, ready on the model's device.

    ``table`` holds the one-hot windows, each with ``margin`` bp of extra genome on both sides
    (room for deletions), then the ALT bases of every allele; every input sequence, reference
    or alternative, is a gather of its rows. Per-allele fields are ``(n,)`` int64 tensors.
    """

    windows: list[Window]
    members: np.ndarray  # (n,) indices into the variants
    group: Tensor  # window of each allele
    table: Tensor  # (W * (L + 2 * margin) + ΣALT, 4)
    refs: Tensor  # (W, L, 4)
    base: Tensor  # table row of window position 0 of the allele's window
    offset: Tensor  # variant start − window start
    ref_len: Tensor
    alt_len: Tensor
    alt_at: Tensor  # table row of the allele's first ALT base


def _make_chunk(
    setup: _Setup, genome: Genome, variants: Sequence[Variant], windows: list[Window]
) -> _Chunk:
    """Fetch the windows once (with room for the longest deletion) and lay out the alleles."""
    length, device = setup.model.sequence_length, setup.model.device
    members = [i for window in windows for i in window.members]
    group = [g for g, window in enumerate(windows) for _ in window.members]
    alleles = [variants[i] for i in members]
    margin = max([len(v.ref) - len(v.alt) for v in alleles] + [0])
    span = length + 2 * margin
    texts = [
        genome.fetch(Interval(w.chrom, w.start - margin, w.start + length + margin))
        for w in windows
    ]
    table = torch.from_numpy(one_hot("".join(texts + [v.alt for v in alleles]))).to(device)
    starts = [0, *np.cumsum([len(v.alt) for v in alleles[:-1]])]
    rows = margin + span * torch.arange(len(windows), device=device)[:, None]  # (W, 1)

    def column(values: Sequence[int]) -> Tensor:
        return torch.as_tensor(np.asarray(values, dtype=np.int64), device=device)

    return _Chunk(
        windows,
        np.asarray(members),
        column(group),
        table,
        refs=table[rows + torch.arange(length, device=device)],  # (W, L, 4)
        base=column([margin + span * g for g in group]),
        offset=column([v.start - windows[g].start for v, g in zip(alleles, group, strict=True)]),
        ref_len=column([len(v.ref) for v in alleles]),
        alt_len=column([len(v.alt) for v in alleles]),
        alt_at=column([len(windows) * span + s for s in starts]),
    )


def _alt_rows(chunk: _Chunk, ids: Tensor, length: int, *, right: bool) -> Tensor:
    """Table rows ``(b, L)`` of the alternative sequences of alleles ``ids``.

    Left-anchored: the reference up to the variant, ALT, then the genome after REF moved by
    ``len(ALT) − len(REF)`` (trimmed for an insertion, extended for a deletion). Right-anchored:
    the mirror image, so the genome after REF sits where it sits in the reference.
    """
    offset, ref_len, alt_len = (
        chunk.offset[ids, None],
        chunk.ref_len[ids, None],
        chunk.alt_len[ids, None],
    )
    shift = alt_len - ref_len
    first = offset - shift if right else offset  # window position of the first ALT base
    before, after = (shift, 0) if right else (0, -shift)  # genome moves left / right of ALT
    base, i = chunk.base[ids, None], torch.arange(length, device=ids.device)
    in_alt = chunk.alt_at[ids, None] + i - first
    return torch.where(
        i < first, base + before + i, torch.where(i < first + alt_len, in_alt, base + after + i)
    )


def _score_chunk(
    setup: _Setup, chunk: _Chunk, results: _Results, batch_size: int, tally: _Tally
) -> None:
    """Every pass of every replicate over the chunk, their scores averaged per replicate, then
    the replicates' mean and spread written into ``results``."""
    gene_rows, gene_bins = _chunk_genes(setup, chunk.windows)  # (G,), (W, G, bins)
    strands = setup.strand_mask(gene_rows)  # (G, T)
    passes = [one for group in setup.passes for one in group]
    together = _passes_together(setup, len(chunk.windows))
    together = [passes[first : first + together] for first in range(0, len(passes), together)]
    per_pass = np.concatenate(  # (n, passes, T * (S + 2) [+ 2 G T])
        [
            _passes_scores(group, setup, chunk, gene_bins, strands, batch_size, tally)
            for group in together
        ],
        axis=1,
    )
    out, spread = _replicate_mean(per_pass, [len(group) for group in setup.passes])
    n, tracks, names = len(chunk.members), len(setup.tracks), len(setup.names)
    results.add(
        chunk.members,
        out[:, : tracks * names].reshape(n, tracks, names),
        spread[:, : tracks * names].reshape(n, tracks, names),
    )
    if len(gene_rows):
        genes = out[:, tracks * names :].reshape(n, 2, len(gene_rows), tracks)
        genes_spread = spread[:, tracks * names :].reshape(n, 2, len(gene_rows), tracks)
        group = chunk.group.cpu().numpy()
        keep = gene_bins.any(axis=-1)[group][..., None] & strands[None]
        results.add_genes(
            chunk.members, gene_rows, keep, genes[:, 0], genes[:, 1], genes_spread[:, 1]
        )


REFERENCE_BYTES = 1 << 30  # reference predictions held at once, all passes together


def _passes_together(setup: _Setup, windows: int) -> int:
    """How many passes run on each batch's inputs, built once, and are scored together: all,
    as far as their reference predictions fit in ``REFERENCE_BYTES`` (Borzoi's 7,611 tracks
    take 187 MB a window). The fast path keeps each pass's reference state, whose size the
    engine cannot see: one pass at a time bounds it."""
    if setup.model.supports_substitutions:
        return 1
    window_bytes = setup.model.output_bins * len(setup.tracks) * 4
    passes = sum(len(group) for group in setup.passes)
    return max(1, min(passes, REFERENCE_BYTES // (window_bytes * windows)))


def _replicate_mean(per_pass: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(n, passes, C)`` scores, passes grouped by replicate (``sizes``): each replicate's
    mean, then the replicates' mean and standard deviation (n − 1; nan for one replicate),
    as ``_over_replicates``."""
    bounds = np.cumsum(sizes)[:-1]
    means = np.stack([group.mean(axis=1) for group in np.split(per_pass, bounds, axis=1)])
    if len(means) == 1:
        return means[0], np.full_like(means[0], np.nan)
    return means.mean(axis=0), means.std(axis=0, ddof=1)


def _passes_scores(
    passes: list[ModelAdapter],
    setup: _Setup,
    chunk: _Chunk,
    gene_bins: np.ndarray,
    strands: np.ndarray,
    batch_size: int,
    tally: _Tally,
) -> np.ndarray:
    """The ``passes``' scores of the chunk's alleles, ``(n, passes, T * (S + 2) [+ 2 G T])``
    float32, in forward passes of ``batch_size`` sequences (each batch counted in ``tally``).

    A model with the substitution fast path predicts the references first (their state is
    what the fast path reuses). Any other model runs the references in its first batches,
    alongside the first alleles: a reference alone in a pass of one window cost twice a
    full pass's time per window (yeast-cheap, CPU).
    """
    indel = (chunk.ref_len != chunk.alt_len).cpu().numpy()
    costs = 1 + indel.astype(np.int64)  # an indel runs two anchorings
    scorer = _AlleleScorer(passes, setup, chunk, gene_bins, strands, batch_size)
    costs = np.concatenate([np.ones(scorer.refs_along, dtype=np.int64), costs])
    items = torch.arange(len(costs), device=setup.model.device)
    counted = tally.counting(scorer, len(passes))
    return run_packed(counted, items, costs, batch_size).cpu().numpy()


def _chunk_genes(setup: _Setup, windows: list[Window]) -> tuple[np.ndarray, np.ndarray]:
    """The genes whose scored region reaches any window's output, and their bins in each."""
    outputs = [setup.output(w.chrom, w.start) for w in windows]
    rows = sorted({g for output in outputs for g in setup.nearby_genes(output)})
    genes = [setup.genes.genes[g] for g in rows]
    bins = np.stack([setup.gene_bins(genes, output) for output in outputs])
    return np.asarray(rows, dtype=np.int64), bins  # (G,), (W, G, bins)


class _AlleleScorer:
    """``items (b,) → (alleles among them, passes, T * (S + 2) [+ 2 * G * T])``: predict,
    stitch and score alleles under each of ``passes``, their inputs built once.

    A callable for ``run_packed``, which halves the batch on out-of-memory; everything it
    builds stays on the model's device and only the reduced scores leave it. A model with the
    substitution fast path predicts the references first and keeps their state: SNVs and MNVs
    then recompute only what the substitution changes; indels always run whole windows.
    Otherwise items ``0 .. W - 1`` are the chunk's W reference windows, predicted in the same
    forward passes as the alleles after them (items ``W ..``); an allele's window always comes
    before it, so its reference is there when it is scored.
    """

    def __init__(
        self,
        passes: list[ModelAdapter],
        setup: _Setup,
        chunk: _Chunk,
        gene_bins: np.ndarray,
        strands: np.ndarray,
        batch_size: int,
    ) -> None:
        model = setup.model
        device = model.device
        self.passes, self.model, self.setup, self.chunk = passes, model, setup, chunk
        self.states: list[object] | None = None
        self.ref_pred: list[Tensor | None] = [None] * len(passes)  # (W, bins, T) per pass
        self.refs_along = len(chunk.windows)
        if model.supports_substitutions:
            predicted = [
                run_batched(
                    lambda x, one=one: _predict_reference(one, x, setup.tracks),
                    chunk.refs,
                    batch_size,
                )
                for one in passes
            ]
            self.ref_pred = [pred for pred, _ in predicted]
            self.states = [state for _, state in predicted]
            self.refs_along = 0
        self.gene_bins = torch.as_tensor(gene_bins, device=device)  # (W, G, bins)
        self.strands = torch.as_tensor(strands, device=device)  # (G, T)
        self.pseudocount = torch.as_tensor(setup.pseudocount, device=device)  # (T,)
        self.bin_index = torch.arange(model.output_bins, device=device)
        # output bin of each variant's first base: where its left and right predictions meet
        self.cut = (chunk.offset - model.crop_bp).div(model.bin_size, rounding_mode="floor")
        tracks, genes = len(setup.tracks), self.strands.shape[0]
        self.columns = tracks * len(setup.names) + 2 * genes * tracks

    def __call__(self, items: Tensor) -> Tensor:
        refs = items[items < self.refs_along]
        ids = items[items >= self.refs_along] - self.refs_along
        alts = self._alternatives(ids, refs)  # per pass (b, bins, T)
        passes, b = len(self.passes), len(ids)
        if not b:
            return torch.empty((0, passes, self.columns), device=items.device)
        group = self.chunk.group[ids]
        ref = torch.cat([pred[group] for pred in self.ref_pred])  # (passes * b, bins, T)
        alt = torch.cat(alts)
        out = [score_all(ref, alt, self.setup.names, self.pseudocount).flatten(1)]
        if self.strands.shape[0]:
            gene_bins = self.gene_bins[group.repeat(passes)]
            sed, log_sed = gene_scores(ref, alt, gene_bins, self.strands, self.pseudocount)
            out += [sed.flatten(1), log_sed.flatten(1)]
        return torch.cat(out, dim=1).reshape(passes, b, -1).transpose(0, 1)

    def _alternatives(self, ids: Tensor, refs: Tensor) -> list[Tensor]:
        if self.states is None:
            return self._whole_windows(ids, refs)
        fast = self.chunk.ref_len[ids] == self.chunk.alt_len[ids]
        if fast.all():
            return self._substituted(ids)
        shape = (len(ids), self.model.output_bins, len(self.setup.tracks))
        alts = [torch.empty(shape, device=ids.device) for _ in self.passes]
        substituted = self._substituted(ids[fast]) if fast.any() else None
        whole = self._whole_windows(ids[~fast], refs)
        for p, alt in enumerate(alts):
            if substituted is not None:
                alt[fast] = substituted[p]
            alt[~fast] = whole[p]
        return alts

    def _substituted(self, ids: Tensor) -> list[Tensor]:
        """Alleles whose REF and ALT have the same length, by the model's fast path."""
        chunk = self.chunk
        width = int(chunk.ref_len[ids].max())
        sequences = self._left_anchored(ids)
        alts = []
        for one, state in zip(self.passes, self.states, strict=True):
            with autocast(one.device):
                alts.append(
                    one.predict_substitutions(
                        state,
                        chunk.group[ids],
                        sequences,
                        chunk.offset[ids],
                        width,
                        self.setup.tracks,
                    ).float()
                )
        return alts

    def _whole_windows(self, ids: Tensor, refs: Tensor) -> list[Tensor]:
        """Alleles by whole-window passes, in one forward pass per model pass with the
        reference windows ``refs`` (whose predictions are kept): an indel's two anchorings
        stitched at its bin."""
        chunk = self.chunk
        is_indel = chunk.ref_len[ids] != chunk.alt_len[ids]
        indels = ids[is_indel]
        right_rows = _alt_rows(chunk, indels, self.model.sequence_length, right=True)
        inputs = torch.cat([chunk.refs[refs], self._left_anchored(ids), chunk.table[right_rows]])
        # right of its bin, an indel's prediction is the right-anchored one
        right_side = (self.bin_index >= self.cut[indels, None])[..., None]  # (k, bins, 1)
        alts = []
        for p, one in enumerate(self.passes):
            pred = _predict(one, inputs, self.setup.tracks)
            if len(refs):
                if self.ref_pred[p] is None:
                    self.ref_pred[p] = pred.new_empty((len(chunk.windows), *pred.shape[1:]))
                self.ref_pred[p][refs] = pred[: len(refs)]
            pred = pred[len(refs) :]
            alt = pred[: len(ids)]  # (b, bins, T), left-anchored
            if len(indels):
                alt[is_indel] = torch.where(right_side, pred[len(ids) :], alt[is_indel])
            alts.append(alt)
        return alts

    def _left_anchored(self, ids: Tensor) -> Tensor:
        """``(b, L, 4)`` one-hot alternative sequences of alleles ``ids``, anchored left
        (``_alt_rows``). A substitution is a copy of its window with ALT written over REF:
        gathering every base of every sequence took a tenth of a cheap model's scoring time;
        only indels, which move the genome after them, are gathered."""
        chunk = self.chunk
        sequences = chunk.refs[chunk.group[ids]]  # a copy: the windows stay as they are
        same_length = chunk.ref_len[ids] == chunk.alt_len[ids]
        if not same_length.all():
            indels = ids[~same_length]
            rows = _alt_rows(chunk, indels, self.model.sequence_length, right=False)
            sequences[~same_length] = chunk.table[rows]
        at = same_length.nonzero().squeeze(1)  # rows of the substitutions
        for base in range(int(chunk.alt_len[ids[at]].max()) if len(at) else 0):
            at = at[chunk.alt_len[ids[at]] > base]  # those with an ALT base here
            alleles = ids[at]
            sequences[at, chunk.offset[alleles] + base] = chunk.table[chunk.alt_at[alleles] + base]
        return sequences


# --- the reference implementation -------------------------------------------------------------


def naive_score_variants(
    model: ModelAdapter,
    genome: Genome,
    variants: Sequence[Variant],
    *,
    scorers: Sequence[str],
    tracks: Sequence[int] | None = None,
    genes: Sequence[Gene] | None = None,
    window_step: int = 1,
) -> VariantScores:
    """``score_variants`` the slow, obvious way: for each allele on its own, the reference and
    alternative windows built as strings and predicted together, nothing shared.

    With the default ``window_step=1`` every window is centred on its variant; with the
    engine's step it places windows as the engine does, and so must give the same scores.
    Arguments and return as ``score_variants``.
    """
    setup = _Setup.make(model, scorers, tracks, genes, window_step)
    results = _Results(variants, setup.scorers, setup.tracks, len(setup.passes))
    with torch.inference_mode():
        for index, variant in enumerate(variants):
            if setup.is_scorable(variant):
                _naive_score_one(setup, genome, variant, index, results)
            else:
                results.unscored.append(index)
    return results.finish(setup)


def _naive_sequences(genome: Genome, variant: Variant, start: int, length: int) -> list[str]:
    """Reference, left-anchored and (for indels) right-anchored alternative windows."""
    end, shift = start + length, len(variant.alt) - len(variant.ref)

    def fetch(first: int, last: int) -> str:
        return genome.fetch(Interval(variant.chrom, first, last))

    ref = fetch(start, end)
    left = fetch(start, variant.start) + variant.alt + fetch(variant.end, end - shift)
    if shift == 0:
        return [ref, left]
    right = fetch(start + shift, variant.start) + variant.alt + fetch(variant.end, end)
    return [ref, left, right]


def allele_profiles(
    model: ModelAdapter,
    genome: Genome,
    variant: Variant,
    tracks: Sequence[int] | None,
    start: int,
) -> tuple[Tensor, Tensor]:
    """Reference and alternative predictions ``(1, bins, T)`` of the window at ``start``.

    For an indel the alternative is stitched at the variant's bin from the left- and the
    right-anchored predictions, so every bin compares like with like.
    """
    texts = _naive_sequences(genome, variant, start, model.sequence_length)
    onehot = torch.from_numpy(one_hot_batch(texts)).to(model.device)
    pred = _predict(model, onehot, tracks)  # (2 or 3, bins, T)
    ref, alt = pred[:1], pred[1:2]
    if len(texts) == 3:
        cut = (variant.start - start - model.crop_bp) // model.bin_size
        alt = torch.cat([pred[1:2, :cut], pred[2:3, cut:]], dim=1)
    return ref, alt


def _naive_score_one(
    setup: _Setup, genome: Genome, variant: Variant, index: int, results: _Results
) -> None:
    """Each pass on its own, averaged per replicate, then over replicates (as the engine)."""
    model = setup.model
    start = window_start(variant.start, model.sequence_length, setup.step)
    output = setup.output(variant.chrom, start)
    rows = np.asarray(setup.nearby_genes(output), dtype=np.int64)
    bins = setup.gene_bins([setup.genes.genes[g] for g in rows], output)  # (G, bins)
    strands = setup.strand_mask(rows)  # (G, T)
    out, spread = _over_replicates(  # (1, T, S + 2 [+ 2 G]) each
        setup.passes,
        lambda one: _naive_pass_scores(one, setup, genome, variant, start, bins, strands),
    )
    names = len(setup.names)
    results.add(np.array([index]), out[..., :names], spread[..., :names])
    if len(rows):
        sed, log_sed = out[..., names::2].transpose(0, 2, 1), out[..., names + 1 :: 2]
        log_sed = log_sed.transpose(0, 2, 1)
        log_sed_spread = spread[..., names + 1 :: 2].transpose(0, 2, 1)  # (1, G, T)
        keep = bins.any(axis=-1)[None, :, None] & strands[None]
        results.add_genes(np.array([index]), rows, keep, sed, log_sed, log_sed_spread)


def _naive_pass_scores(
    model: ModelAdapter,
    setup: _Setup,
    genome: Genome,
    variant: Variant,
    start: int,
    bins: np.ndarray,
    strands: np.ndarray,
) -> np.ndarray:
    """``(1, T, S + 2 [+ 2 G])``: the scorers, REF and ALT, then SED and logSED per gene."""
    ref, alt = allele_profiles(model, genome, variant, setup.tracks, start)
    device = model.device
    pseudocount = torch.as_tensor(setup.pseudocount, device=device)
    out = [score_all(ref, alt, setup.names, pseudocount)]  # (1, T, S + 2)
    if len(strands):
        sed, log_sed = gene_scores(
            ref,
            alt,
            torch.as_tensor(bins, device=device),
            torch.as_tensor(strands, device=device),
            pseudocount,
        )  # (1, G, T) each
        out.append(torch.stack([sed, log_sed], dim=-1).transpose(1, 2).flatten(2))
    return torch.cat(out, dim=-1).cpu().numpy()
