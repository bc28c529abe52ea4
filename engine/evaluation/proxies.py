"""Variant-level quality proxies of any model, one JSON-ready dict (``variant_proxies``).

Each figure comes with what it would be without sequence knowledge: chance or a distance-only
baseline. None of them is a measurement of variant effects: a model can pass all of them and
still mis-predict a variant, which the card says.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.interpret.motif_recovery import (
    SiteCaller,
    genome_background,
    motif_recovery,
    promoter_matrices,
    sample_genes,
)
from engine.interpret.motifs import load_matrices
from engine.interpret.tata import KNOWN_TATA_GENES, TATA_BP, known_tata_ranks
from engine.io.annotation import Gene
from engine.io.fasta import Genome
from engine.models.ensemble import Ensemble
from engine.variants.stability import promoter_snvs, stability


def variant_proxies(
    model: Ensemble,
    genome: Genome,
    genes: Sequence[Gene],
    chroms: Sequence[str],
    *,
    tax_group: str | None,
    promoters: int = 300,
    snvs: int = 2000,
    seed: int = 0,
) -> dict:
    """Every proxy of ``model`` over genes and SNVs of ``chroms`` (held-out chromosomes for a
    card). ``tax_group`` picks the JASPAR matrices (motif recovery needs fungi's promoter
    factors; other taxa skip it, saying why)."""
    on_chroms = [g for g in genes if g.chrom in chroms]
    return {
        "chromosomes": list(chroms),
        "gene_region": model.gene_region.describe(),
        "tata_box_ranks": tata_section(model, genome, genes),
        "motif_recovery": motif_section(
            model, genome, on_chroms, chroms, tax_group, promoters, seed
        ),
        "stability": stability(
            model, genome, promoter_snvs(genome, on_chroms, chroms, snvs, seed=seed), genes=genes
        ),
    }


def tata_section(model: Ensemble, genome: Genome, genes: Sequence[Gene]) -> dict:
    """Ranks of the textbook TATA boxes in the ISM of their 192 upstream bp, and the rank an
    8-bp box would reach by chance: the expected best of 8 random ranks of 192, (192 + 1) / 9."""
    ranks = known_tata_ranks(model, genome, genes, KNOWN_TATA_GENES)
    if not ranks:
        return {"skipped": f"none of {', '.join(KNOWN_TATA_GENES)} is in this genome"}
    positions = ranks[0]["positions"]
    return {
        "genes": {r["gene"]: r["best_rank"] for r in ranks},
        "regions": {r["gene"]: r["region"] for r in ranks},
        "positions": positions,
        "chance_rank": round((positions + 1) / (TATA_BP + 1), 1),
    }


def motif_section(
    model: Ensemble,
    genome: Genome,
    genes: Sequence[Gene],
    chroms: Sequence[str],
    tax_group: str | None,
    count: int,
    seed: int,
) -> dict:
    matrices = promoter_matrices(load_matrices(tax_group)) if tax_group == "fungi" else []
    if not matrices:
        return {"skipped": "the promoter factors are yeast's: no fungal JASPAR matrices here"}
    caller = SiteCaller.calibrated(matrices, genome_background(genome, seed=seed))
    chosen = sample_genes(genes, genome, chroms, count, seed=seed)
    result = motif_recovery(model, genome, chosen, caller, seed=seed)
    result["per_gene"] = [g for g in result["per_gene"] if g["segments"]]  # keep the file short
    return result
