"""The accuracy measures of the model card (issue #3), written once for model, replicate and
baseline alike: Pearson of log1p values, per sample over both strands, and at gene level."""

from __future__ import annotations

import numpy as np

from engine.io.annotation import Gene
from engine.models.base import GeneRegion

GENE_UPSTREAM = 300
GENE_DOWNSTREAM = 50
#: where a yeast gene's STRIPE-seq reads start (71 % of them within 300 bp upstream of the
#: annotated start, data/yeast/README.md): the gene level of accuracy and of variant scores
TSS_WINDOW = GeneRegion(GENE_UPSTREAM, GENE_DOWNSTREAM)


def log_pearson(observed: np.ndarray, predicted: np.ndarray) -> float:
    a, b = np.log1p(observed.ravel()), np.log1p(predicted.ravel())
    return float(np.corrcoef(a, b)[0, 1])


def sample_pearsons(observed: dict, predicted: dict, chroms, track_ids: list[str]) -> dict:
    """Per sample: log1p Pearson over all bins of ``chroms``, plus and minus strands together.

    Args:
        observed, predicted: chrom → ``(bins, tracks)`` arrays in ``track_ids`` order.
    """
    samples = sorted({t.rsplit(".", 1)[0] for t in track_ids})
    result = {}
    for sample in samples:
        columns = [i for i, t in enumerate(track_ids) if t.rsplit(".", 1)[0] == sample]
        obs = np.concatenate([observed[c][:, columns].T.ravel() for c in chroms])
        pred = np.concatenate([predicted[c][:, columns].T.ravel() for c in chroms])
        result[sample] = log_pearson(obs, pred)
    return result


def gene_window_bins(gene: Gene, bin_size: int) -> tuple[int, int]:
    """Bins overlapping 300 bp upstream to 50 bp downstream of the gene start, on its strand."""
    window = gene.start_window(GENE_UPSTREAM, GENE_DOWNSTREAM)
    return max(window.start, 0) // bin_size, -(-window.end // bin_size)


def gene_sums(binned: dict, genes: list[Gene], track_ids: list[str], bin_size: int) -> np.ndarray:
    """``(genes, samples)``: counts in each gene's start window, on the gene's strand."""
    samples = sorted({t.rsplit(".", 1)[0] for t in track_ids})
    out = np.zeros((len(genes), len(samples)))
    for g, gene in enumerate(genes):
        lo, hi = gene_window_bins(gene, bin_size)
        strand = "minus" if gene.strand == "-" else "plus"
        for s, sample in enumerate(samples):
            column = track_ids.index(f"{sample}.{strand}")
            out[g, s] = binned[gene.chrom][lo:hi, column].sum()
    return out


def gene_pearsons(observed: dict, predicted: dict, genes, track_ids, bin_size) -> dict:
    samples = sorted({t.rsplit(".", 1)[0] for t in track_ids})
    obs = gene_sums(observed, genes, track_ids, bin_size)
    pred = gene_sums(predicted, genes, track_ids, bin_size)
    return {s: log_pearson(obs[:, i], pred[:, i]) for i, s in enumerate(samples)}


def group_means(per_sample: dict) -> dict:
    """Mean over the WT samples and over the diamide (D) samples."""

    def mean(tag: str) -> float:
        values = [v for k, v in per_sample.items() if f"_{tag}_" in k]
        return float(np.mean(values))

    return {"WT": mean("WT"), "diamide": mean("D")}
