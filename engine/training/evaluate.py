"""Evaluate a yeast model on the held-out test chromosomes (XII, XIV, XVI) for its model card.

    python -m engine.training.evaluate --model data/models/yeast-demo --data data/yeast \\
        --out data/models/yeast-demo/metrics.json

Reports, per sample and averaged over the WT and the diamide samples: log1p Pearson at 32 bp
bins over whole chromosomes (both strands), and at gene level (300 bp upstream to 50 bp past
each gene start, on its strand) — for the model with and without reverse-complement averaging,
for replicate WT_1 vs WT_2 computed the same way, and for a distance-to-TSS baseline.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

from engine.io.annotation import Gene, read_genes
from engine.io.fasta import Genome
from engine.io.files import merge_json
from engine.io.intervals import Interval
from engine.models.ensemble import Ensemble
from engine.models.regions import predict_region
from engine.models.yeast import YeastAdapter
from engine.training.data import BIN_SIZE, TEST_CHROMS, YeastData, track_ids, train_chroms
from engine.training.metrics import gene_pearsons, group_means, sample_pearsons

logger = logging.getLogger("evaluate")
BASELINE_REACH_BINS = 64  # the profile covers ±2 kb around a gene start; beyond it, one value


def predict_chroms(model, genome: Genome, chroms) -> dict[str, np.ndarray]:
    return {
        c: predict_region(model, genome, Interval(c, 0, genome.contig_lengths[c]), batch_size=16)
        for c in chroms
    }


def score(observed: dict, predicted: dict, genes: list[Gene]) -> dict:
    """32 bp and gene-level Pearsons (per sample and group means), plus per test chromosome."""
    ids = track_ids()
    bins = sample_pearsons(observed, predicted, TEST_CHROMS, ids)
    gene = gene_pearsons(observed, predicted, genes, ids, BIN_SIZE)
    per_chrom = {
        c: group_means(sample_pearsons(observed, predicted, [c], ids)) for c in TEST_CHROMS
    }
    return {
        "bins_32bp": group_means(bins),
        "gene_level": group_means(gene),
        "per_sample_32bp": bins,
        "per_sample_gene": gene,
        "per_chromosome_32bp": per_chrom,
    }


def replicate(observed: dict, genes: list[Gene]) -> dict:
    """WT_1 against WT_2, measured exactly as the model is (WT_2 plays the prediction)."""
    ids = track_ids()
    order = [ids.index(t.replace("WT_1", "WT_2")) if "WT_1" in t else i for i, t in enumerate(ids)]
    as_prediction = {c: observed[c][:, order] for c in TEST_CHROMS}
    bins = sample_pearsons(observed, as_prediction, TEST_CHROMS, ids)
    gene = gene_pearsons(observed, as_prediction, genes, ids, BIN_SIZE)
    key = "stripeseq_S288C_WT_1"
    return {"bins_32bp": bins[key], "gene_level": gene[key]}


def tss_distance(n_bins: int, genes: list[Gene], strand: str) -> np.ndarray:
    """Per bin: bins downstream of the nearest same-strand gene start (negative = upstream),
    clipped to ±BASELINE_REACH_BINS + 1 (the far-away class)."""
    starts = np.array(
        sorted(
            (g.start if strand == "+" else g.end - 1) // BIN_SIZE
            for g in genes
            if g.strand == strand
        )
    )
    positions = np.arange(n_bins)
    if len(starts) == 0:
        return np.full(n_bins, BASELINE_REACH_BINS + 1)
    right = np.clip(np.searchsorted(starts, positions), 0, len(starts) - 1)
    left = np.clip(right - 1, 0, len(starts) - 1)
    nearest = np.where(
        np.abs(starts[left] - positions) < np.abs(starts[right] - positions),
        starts[left],
        starts[right],
    )
    offset = positions - nearest if strand == "+" else nearest - positions
    return np.clip(offset, -BASELINE_REACH_BINS - 1, BASELINE_REACH_BINS + 1)


def baseline(observed: dict, genes: list[Gene], all_chroms: list[str]) -> dict:
    """Coverage as a function of distance to the nearest same-strand gene start, learnt on the
    training chromosomes (mean log1p count per distance, per track) and applied to the test."""
    by_chrom = {c: [g for g in genes if g.chrom == c] for c in all_chroms}
    ids = track_ids()
    reach = BASELINE_REACH_BINS + 1
    profile = np.zeros((2 * reach + 1, len(ids)))
    counts = np.zeros(2 * reach + 1)
    for chrom in train_chroms(all_chroms):
        for column, ident in enumerate(ids):
            strand = "+" if ident.endswith(".plus") else "-"
            distance = tss_distance(len(observed[chrom]), by_chrom[chrom], strand) + reach
            np.add.at(profile[:, column], distance, np.log1p(observed[chrom][:, column]))
            if column == 0:
                np.add.at(counts, distance, 1)
    profile /= np.maximum(counts, 1)[:, None]
    predicted = {}
    for chrom in TEST_CHROMS:
        columns = []
        for column, ident in enumerate(ids):
            strand = "+" if ident.endswith(".plus") else "-"
            distance = tss_distance(len(observed[chrom]), by_chrom[chrom], strand) + reach
            columns.append(np.expm1(profile[distance, column]))
        predicted[chrom] = np.stack(columns, axis=1)
    test_genes = [g for g in genes if g.chrom in TEST_CHROMS]
    return {
        k: v
        for k, v in score(observed, predicted, test_genes).items()
        if k in ("bins_32bp", "gene_level")
    }


def evaluate(model_dir: Path, data_dir: Path) -> dict:
    torch.manual_seed(0)
    data = YeastData.load(data_dir)
    genome = Genome(data_dir / "sacCer3.fa.gz")
    genes = read_genes(data_dir / "genes_R64.gff3")
    test_genes = [g for g in genes if g.chrom in TEST_CHROMS]
    adapter = YeastAdapter(model_dir)
    results = {"test_chromosomes": list(TEST_CHROMS), "genes_scored": len(test_genes)}
    for label, rc in (("model_rc", True), ("model_forward_only", False)):
        began = time.monotonic()
        predicted = predict_chroms(Ensemble([adapter], reverse_complement=rc), genome, TEST_CHROMS)
        results[label] = score(data.counts, predicted, test_genes)
        results[label]["seconds"] = round(time.monotonic() - began, 1)
        logger.info(
            "%s: %s", label, json.dumps({k: results[label][k] for k in ("bins_32bp", "gene_level")})
        )
    results["replicate_WT1_vs_WT2"] = replicate(data.counts, test_genes)
    results["baseline_distance_to_tss"] = baseline(data.counts, genes, list(data.codes))
    return results


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("data/yeast"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    metrics = evaluate(args.model, args.data)
    text = json.dumps(metrics, indent=2)
    if args.out:
        # keep what other commands stored there (evaluate_model's proxies, the validation note)
        merge_json(args.out, metrics)
    print(text)
