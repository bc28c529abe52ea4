"""A scored allele as one BED line (``engine.io.igv_files``): the results table's download and
the bundle's top_hits.bed share it."""

from engine.io.igv_files import BedHit
from genomeweb.variants.models import VariantEffect


def bed_hit(effect: VariantEffect) -> BedHit:
    """The allele's reference bases (0-based half-open), named by its ID or as typed."""
    variant = effect.variant
    name = variant.ident or f"{variant.chrom}:{variant.pos} {variant.ref}>{variant.alt}"
    end = variant.start + len(variant.ref)
    return BedHit(
        variant.chrom,
        variant.start,
        end,
        name,
        effect.primary,
        effect.primary_pct,
        effect.top_track,
    )
