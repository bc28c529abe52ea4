"""A scoring job's view of the server-wide store of scored alleles (``genomeweb.jobs.
score_cache``): the key of its settings, and the ``engine.variants.reuse.Reuse`` it scores with.

Every part of the key comes from the job row and the catalog (the weights' sha256s a worker
checks when it loads them, the genome's and annotation's sha256s), never from the message.
"""

import logging

from engine.io.annotation import Gene
from engine.io.vcf import Variant
from engine.models.base import ModelAdapter
from engine.variants.effects import VariantScores, default_window_step
from engine.variants.reuse import (
    AlleleScores,
    Layout,
    StoredAllele,
    allele_key,
    gene_indices,
    pack,
    settings_key,
    unpack,
)
from genomeweb.catalog.models import Predictor
from genomeweb.jobs.score_cache import layout_for, store_entries, stored_entries

logger = logging.getLogger(__name__)

#: Numbers stored per allele at most (4 KiB of float32): a job of thousands of tracks (Borzoi's
#: 7,611 × 4 scorers would be 240 KB an allele) is not stored, so the store stays about a
#: gigabyte for a 260k-allele set; such a job still reuses what smaller jobs stored.
MAX_STORED_VALUES = 1024


def reuse_settings(
    predictor: Predictor, params: dict, model: ModelAdapter, genes: bool
) -> dict | None:
    """Everything besides the allele, tracks and scorers that changes a score, as plain data;
    None when a sha256 it needs was never recorded (then nothing is reused or stored)."""
    spec = predictor.spec()
    weights = [entry["sha256"] for entry in spec["replicates"]][: params["replicates"] or None]
    genome = predictor.genome
    if not all(weights) or not genome.fasta_sha256 or (genes and not genome.annotation_sha256):
        return None
    return {
        "architecture": spec["architecture"],
        "weights": weights,
        "track_table": spec["tracks"],  # strands, scales: what turns outputs into coverage
        "genome": genome.fasta_sha256,
        "annotation": genome.annotation_sha256 if genes else None,
        "sequence_length": model.sequence_length,
        "bin_size": model.bin_size,
        "crop_bp": model.crop_bp,
        "window_step": default_window_step(model),
        "reverse_complement": bool(params["reverse_complement"]),
        "shifts": [int(shift) for shift in params["shifts"]],
        "replicates": len(weights),
        "pseudocount": model.describe_pseudocount(),
        "gene_region": model.gene_region.describe(),
        "device": model.device.type,  # bf16 on CUDA, float32 on the CPU
    }


class ScoreStore:
    """``Reuse`` for one job: its settings key, its tracks (identifiers) and scorers."""

    def __init__(
        self, settings: dict, track_ids: list[str], scorers: list[str], genes: list[Gene] | None
    ) -> None:
        self.key = settings_key(settings)
        self.tracks, self.scorers = list(track_ids), list(scorers)
        self.genes = gene_indices(genes)

    def find(self, variants: list[Variant]) -> tuple[dict[int, AlleleScores], int]:
        keys = [allele_key(self.key, variant) for variant in variants]
        index = {key: i for i, key in enumerate(keys)}
        candidates: dict[int, list[StoredAllele]] = {}
        for layout, key, payload, genes in stored_entries(self.key, keys):
            held = Layout(tuple(layout.tracks), tuple(layout.scorers))
            candidates.setdefault(index[key], []).append(StoredAllele(held, payload, genes))
        found, elsewhere = {}, 0
        for i, entries in candidates.items():
            scores = self._first_usable(entries)
            if scores is not None:
                found[i] = scores
            elif not any(entry.layout.covers(self.tracks, self.scorers) for entry in entries):
                elsewhere += 1
        if found or elsewhere:
            logger.info(
                "%d of %d alleles reused, %d stored with other tracks or scorers",
                len(found),
                len(variants),
                elsewhere,
            )
        return found, elsewhere

    def _first_usable(self, entries: list[StoredAllele]) -> AlleleScores | None:
        """The job's own layout first, then any that holds its tracks and scorers."""
        mine = Layout(tuple(self.tracks), tuple(self.scorers))
        entries = sorted(entries, key=lambda entry: entry.layout != mine)
        for entry in entries:
            if entry.layout.covers(self.tracks, self.scorers):
                scores = unpack(entry, self.tracks, self.scorers, self.genes)
                if scores is not None:
                    return scores
        return None

    def keep(self, variants: list[Variant], scores: VariantScores) -> None:
        tracks, scorers = len(self.tracks), len(self.scorers)
        if 2 * tracks * scorers + 2 * tracks > MAX_STORED_VALUES:
            return
        unscored = set(scores.unscored)
        entries = [
            (allele_key(self.key, variant), *pack(scores, i))
            for i, variant in enumerate(variants)
            if i not in unscored
        ]
        if entries:
            store_entries(layout_for(self.key, self.tracks, self.scorers), entries)


def score_store(
    predictor: Predictor,
    params: dict,
    model: ModelAdapter,
    genes: list[Gene] | None,
) -> ScoreStore | None:
    """The store a scoring job with ``params`` reuses and fills; None when it cannot."""
    settings = reuse_settings(predictor, params, model, genes is not None)
    if settings is None:
        logger.info("no reuse: the catalog lacks a sha256 of the model, genome or annotation")
        return None
    return ScoreStore(settings, params["tracks"], params["scorers"], genes)
