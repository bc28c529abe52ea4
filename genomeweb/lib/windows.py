"""Where variant-scoring windows fall, shared by the worker (which scores) and the web app
(which estimates a job's cost before launch), so the two always agree."""

from collections.abc import Iterable


def window_step(output_bins: int, bin_size: int) -> int:
    """Tile width: a quarter of the output span, in whole bins. Variants in one tile share a
    reference prediction, and each sits at most half a tile from its window's centre."""
    return max(output_bins // 4, 1) * bin_size


def forward_passes(
    variants: Iterable[tuple[str, int, int, int]], step: int, *, per_pass: int
) -> int:
    """Model passes to score ``(chrom, start, ref_len, alt_len)`` alleles: one reference per
    tile, one per SNV/MNV allele, two per indel (left- and right-anchored), each × ``per_pass``
    (reverse complement × shifts × replicates)."""
    tiles, alleles = set(), 0
    for chrom, start, ref_len, alt_len in variants:
        tiles.add((chrom, start // step))
        alleles += 1 if ref_len == alt_len else 2
    return (len(tiles) + alleles) * per_pass
