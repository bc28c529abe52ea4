"""Variant effect scorers on untransformed predictions (counts), computed where they live.

Every scorer takes ``ref`` and ``alt`` predictions shaped ``(V, bins, T)`` on the counts scale
(``ModelAdapter.predict`` already undid the model's output transform) and returns ``(V, T)``:
the reduction over bins happens on the model's device, so only ``(variants, tracks)`` values
leave it. Definitions follow Calico's baskerville ``snps.py`` and borzoi ``borzoi_sed.py``
(MODEL_NOTES.md, "Calico's variant scores").

As in Calico's code, where R and A are ``(shifts, bins, tracks)``, every scorer is computed per
pass (each shift and reverse-complement pass of each replicate) and then averaged,
``mean_s f(R_s, A_s)`` (``engine.variants.effects`` runs the passes of an ``Ensemble`` one by
one); the replicates' spread of those means is each score's uncertainty.

The log scores add a pseudocount ``c`` per track (``log_pseudocounts``): one count, except for
models trained on scaled targets (Borzoi, Flashzoi), where Calico scores predictions left
multiplied by the track's ``scale`` (baskerville's ``untransform_preds1`` with
``unscale=False``) and adds 1 to those, i.e. ``c = 1 / scale`` on our counts. The linear scores
(SUM, D1, D2, SAX, REF, ALT) stay in predicted counts, the unit of the coverage tracks shown
next to them; Calico's equal them times ``scale``. JS normalises its profiles, so neither
choice moves it. (baskerville's ``compute_scores`` sums SUM and logSUM over shifts where it
averages the others; we average all of them, so no score grows with the number of shifts.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from engine.io.annotation import Gene
from engine.io.intervals import Interval
from engine.models.base import GeneRegion, Track

# ref, alt (V, bins, T), the log scores' pseudocount (T,) or a number -> (V, T)
Scorer = Callable[[Tensor, Tensor, "Tensor | float"], Tensor]

JS_PSEUDOCOUNT_PERCENTILE = 25.0


def _log2p(x: Tensor, pseudocount: Tensor | float) -> Tensor:
    return torch.log2(x + pseudocount)


def _log2_ratio(diff: Tensor, ref: Tensor, pseudocount: Tensor | float) -> Tensor:
    """``log2(ref + diff + c) − log2(ref + c)``, as ``log1p(diff / (ref + c)) / ln 2``.

    The same value, but without subtracting two nearly equal logs of large sums: float32 keeps
    small effects on high-coverage tracks that the naive difference would round away.
    """
    return torch.log1p(diff / (ref + pseudocount)) / math.log(2)


def score_sum(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """SUM (SAD): ``ΣA − ΣR`` over bins, summed as ``Σ(A − R)`` to keep small differences."""
    return (alt - ref).sum(dim=1)


def score_log_sum(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """logSUM: ``Σ log2(A + c) − Σ log2(R + c)`` over bins."""
    return (_log2p(alt, pseudocount) - _log2p(ref, pseudocount)).sum(dim=1)


def score_log_sed(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """logSED (logFC): ``log2(ΣA + c) − log2(ΣR + c)`` over all bins of the window."""
    return _log2_ratio((alt - ref).sum(dim=1), ref.sum(dim=1), pseudocount)


def score_d1(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """D1: L1 norm of ``A − R`` over bins."""
    return (alt - ref).abs().sum(dim=1)


def score_d2(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """D2: L2 norm of ``A − R`` over bins."""
    return (alt - ref).square().sum(dim=1).sqrt()


def score_log_d1(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """logD1: L1 norm of ``log2(A + c) − log2(R + c)`` over bins."""
    return (_log2p(alt, pseudocount) - _log2p(ref, pseudocount)).abs().sum(dim=1)


def score_log_d2(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """logD2: L2 norm of ``log2(A + c) − log2(R + c)`` over bins."""
    return (_log2p(alt, pseudocount) - _log2p(ref, pseudocount)).square().sum(dim=1).sqrt()


def score_sax(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """SAX: the signed ``A − R`` at the bin where ``|A − R|`` is largest."""
    diff = alt - ref  # (V, bins, T)
    at = diff.abs().argmax(dim=1, keepdim=True)  # (V, 1, T)
    return diff.gather(1, at).squeeze(1)


def percentile(x: Tensor, q: float, dim: int) -> Tensor:
    """The ``q``-th percentile along ``dim`` with linear interpolation (numpy's default).

    Written with ``kthvalue`` because ``torch.quantile`` refuses inputs over 2**24 elements,
    which one Borzoi prediction (6,144 bins × 7,611 tracks) already exceeds.
    """
    n = x.shape[dim]
    position = q / 100 * (n - 1)
    low = math.floor(position)
    below = x.kthvalue(low + 1, dim=dim).values
    above = x.kthvalue(min(low + 2, n), dim=dim).values
    return below + (position - low) * (above - below)


def score_js(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """JS: symmetrised KL divergence between the ref and alt profiles over bins.

    Both profiles get the same pseudocount, the 25th percentile of R over bins (per variant and
    track), and are normalised to sum to 1 over bins; the score is
    ``(KL(p‖q) + KL(q‖p)) / 2 = Σ (p − q)(ln p − ln q) / 2`` (natural log, as scipy's
    ``rel_entr`` that Calico uses).
    """
    floor = percentile(ref, JS_PSEUDOCOUNT_PERCENTILE, dim=1).unsqueeze(1)  # (V, 1, T)
    p = ref + floor
    p = p / p.sum(dim=1, keepdim=True)
    q = alt + floor
    q = q / q.sum(dim=1, keepdim=True)
    terms = (p - q) * (p.log() - q.log())
    return torch.where(p == q, 0.0, terms).sum(dim=1) / 2  # 0 · (−inf − −inf) is 0, not nan


def score_ref(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """REF: ``ΣR`` over bins (the reference coverage, for context)."""
    return ref.sum(dim=1)


def score_alt(ref: Tensor, alt: Tensor, pseudocount: Tensor | float = 1.0) -> Tensor:
    """ALT: ``ΣA`` over bins."""
    return alt.sum(dim=1)


SCORERS: dict[str, Scorer] = {
    "SUM": score_sum,
    "logSUM": score_log_sum,
    "logSED": score_log_sed,
    "D1": score_d1,
    "D2": score_d2,
    "logD1": score_log_d1,
    "logD2": score_log_d2,
    "SAX": score_sax,
    "JS": score_js,
    "REF": score_ref,
    "ALT": score_alt,
}
# What a user asks for; REF and ALT are always reported, as ref_sum and alt_sum.
VARIANT_SCORERS = tuple(name for name in SCORERS if name not in ("REF", "ALT"))


def score_all(
    ref: Tensor, alt: Tensor, names: Sequence[str], pseudocount: Tensor | float = 1.0
) -> Tensor:
    """Several scorers at once.

    Args:
        ref: ``(V, bins, T)`` reference counts (an expanded view of a shared one is fine).
        alt: ``(V, bins, T)`` alternative counts, on the same bins.
        names: keys of ``SCORERS``.
        pseudocount: the log scores' ``c``, per track ``(T,)`` or one number.

    Returns:
        ``(V, T, S)`` float32, one slice per name in order.
    """
    ref, alt = ref.float(), alt.float()
    return torch.stack([SCORERS[name](ref, alt, pseudocount) for name in names], dim=-1)


def gene_scores(
    ref: Tensor,
    alt: Tensor,
    gene_bins: Tensor,
    strand_mask: Tensor,
    pseudocount: Tensor | float = 1.0,
) -> tuple[Tensor, Tensor]:
    """Gene-level SED and logSED: the SUM and logSED over each gene's scored bins (its exons,
    or its start window for a TSS model: ``gene_region_bins``).

    Args:
        ref: ``(V, bins, T)`` reference counts.
        alt: ``(V, bins, T)`` alternative counts.
        gene_bins: ``(V, G, bins)`` or ``(G, bins)`` bool, the scored bins of each gene in
            each variant's window (``gene_region_bins``).
        strand_mask: ``(G, T)`` bool, the tracks that match each gene's strand (``strand_mask``).
        pseudocount: logSED's ``c``, per track ``(T,)`` or one number.

    Returns:
        ``SED = Σ_gene bins A − R`` and ``logSED = log2(ΣA + c) − log2(ΣR + c)``, each
        ``(V, G, T)`` float32; nan for a track of the other strand or a gene with no scored
        bin in the window.
    """
    ref, alt = ref.float(), alt.float()
    weights = gene_bins.expand(len(ref), *gene_bins.shape[-2:]).float()  # (V, G, bins)
    ref_sum = torch.einsum("vgb,vbt->vgt", weights, ref)
    sed = torch.einsum("vgb,vbt->vgt", weights, alt - ref)
    log_sed = _log2_ratio(sed, ref_sum, pseudocount)
    keep = strand_mask.unsqueeze(0) & gene_bins.expand_as(weights).any(dim=-1, keepdim=True)
    return sed.where(keep, torch.nan), log_sed.where(keep, torch.nan)


def gene_region_bins(
    genes: Sequence[Gene], output: Interval, bin_size: int, region: GeneRegion
) -> np.ndarray:
    """Each gene's scored bins in a window's output: its exons, or a window around its start,
    as the model's ``gene_region`` says (``(G, len(output) // bin_size)`` bool)."""
    if region.is_exons:
        return exon_bins(genes, output, bin_size)
    return start_window_bins(genes, output, bin_size, region)


def start_window_bins(
    genes: Sequence[Gene], output: Interval, bin_size: int, region: GeneRegion
) -> np.ndarray:
    """The bins that overlap each gene's start window (the model card's gene-level rule),
    counted from the window's first output bin and clipped to it; ``(G, bins)`` bool."""
    bins = len(output) // bin_size
    mask = np.zeros((len(genes), bins), dtype=bool)
    for row, gene in enumerate(genes):
        if gene.chrom != output.chrom:
            continue
        window = gene.start_window(region.upstream, region.downstream)
        first = (window.start - output.start) // bin_size
        last = -(-(window.end - output.start) // bin_size)
        mask[row, min(max(first, 0), bins) : min(max(last, 0), bins)] = True
    return mask


def exon_bins(genes: Sequence[Gene], output: Interval, bin_size: int) -> np.ndarray:
    """Each gene's exon bins in a window's output, as borzoi ``gene.py`` picks them.

    An exon ``[start, end)`` covers bins ``round(start / bin) … round(end / bin)`` (half-open,
    Python's round like numpy's) counted from the window's first output bin, clipped to the
    window. Genes on another contig get no bins.

    Args:
        genes: the genes to place (the caller picks those near the window).
        output: the genome interval of the window's output bins.
        bin_size: bp per output bin.

    Returns:
        ``(G, len(output) // bin_size)`` bool.
    """
    bins = len(output) // bin_size
    mask = np.zeros((len(genes), bins), dtype=bool)
    for row, gene in enumerate(genes):
        if gene.chrom != output.chrom:
            continue
        for exon in gene.exons:
            first, last = (round((x - output.start) / bin_size) for x in (exon.start, exon.end))
            # clip both ends: a negative end would count from the far end of the window
            mask[row, min(max(first, 0), bins) : min(max(last, 0), bins)] = True
    return mask


def strand_mask(genes: Sequence[Gene], tracks: Sequence[Track]) -> np.ndarray:
    """Which tracks each gene is scored on: a + gene on + and unstranded tracks, a − gene on −
    and unstranded tracks, an unstranded gene on all of them.

    Returns:
        ``(G, T)`` bool.
    """
    strands = np.array([track.strand for track in tracks])
    mask = np.ones((len(genes), len(tracks)), dtype=bool)
    for row, gene in enumerate(genes):
        if gene.strand in ("+", "-"):
            mask[row] = (strands == gene.strand) | (strands == ".")
    return mask
