"""Where variant-scoring windows fall, shared by the worker (which scores) and the web app
(which estimates a job's cost before launch), so the two always agree."""

from collections.abc import Iterable, Sequence


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


def pass_cost(
    variants: Iterable[tuple[str, int, int, int]],
    step: int,
    *,
    per_pass: int,
    substitution_cost: float = 1.0,
) -> float:
    """``forward_passes`` in whole-pass equivalents, what the time grows with: a substitution
    allele's pass counts ``substitution_cost`` (below 1 where the model's fast path reuses its
    window's reference, ``engine.io.files.fast_substitution_cost``); references and indels 1."""
    tiles, substitutions, indel_passes = set(), 0, 0
    for chrom, start, ref_len, alt_len in variants:
        tiles.add((chrom, start // step))
        if ref_len == alt_len:
            substitutions += 1
        else:
            indel_passes += 2
    return (len(tiles) + indel_passes + substitution_cost * substitutions) * per_pass


def part_ranges(
    loci: Sequence[tuple[str, int]], size: int, step: int, *, least: int | None = None
) -> list[tuple[int, int]]:
    """Cut alleles, sorted by ``(chrom, start)``, into consecutive ``[first, stop)`` ranges of
    about ``size``, each cut moved forward to the next tile boundary so that no tile (and so no
    reference prediction) is split between two parts.

    With ``least``, the ranges shrink towards the end (guided self-scheduling): each takes a
    quarter of what is left, at least ``least`` and at most ``size``. Workers that take parts
    from a queue then finish close together: with equal parts, the one that drew the last
    full part scored it alone while the others waited (5 parts of 12,500 alleles on two
    workers: one idle for 107 s of 379, bench/bench_260k.py).
    """
    ranges, first = [], 0
    while first < len(loci):
        take = size
        if least is not None:
            take = min(size, max(least, -(-(len(loci) - first) // 4)))
        stop = min(first + take, len(loci))
        while 0 < stop < len(loci) and _tile(loci[stop], step) == _tile(loci[stop - 1], step):
            stop += 1
        ranges.append((first, stop))
        first = stop
    return ranges


def _tile(locus: tuple[str, int], step: int) -> tuple[str, int]:
    return locus[0], locus[1] // step
