"""One spelling per allele: left-aligned and trimmed against the reference.

A VCF may write one haplotype several ways: a deletion of one T in a run of Ts at any T of the
run, with or without extra shared bases around it. Scored as written, each spelling puts the
change at another position (and another bin), so one deletion got different scores. Intake
rewrites every allele into the one parsimonious, left-aligned form (Tan, Abecasis & Kang 2015,
"Unified representation of genetic variants"; what ``bcftools norm -f`` and ``vt normalize``
write):

1. while both alleles end with the same base, drop it; while one allele is empty, move one base
   to the left and put the reference base there in front of both; repeat until neither applies;
2. while both alleles are at least 2 bases long and start with the same base, drop it.

Coordinates are 0-based (``start`` is the first REF base).
"""

from __future__ import annotations

import os
from collections.abc import Callable

Fetch = Callable[[int, int], str]  # reference bases of [start, end) on the allele's contig
_SLIDE_BLOCK = 4096


def normalize(start: int, ref: str, alt: str, fetch: Fetch) -> tuple[int, str, str]:
    """The left-aligned, trimmed ``(start, ref, alt)`` of an allele (``ref != alt``).

    At the start of a contig an indel cannot move further left; it keeps one base of anchor on
    its right instead (VCF's rule for a variant at position 1).
    """
    if len(ref) == 1 and len(alt) == 1:
        return start, ref, alt
    start, ref, alt = _left_align(start, ref, alt, fetch)
    shared = min(_shared_prefix(ref, alt), len(ref) - 1, len(alt) - 1)
    return start + shared, ref[shared:], alt[shared:]


def _left_align(start: int, ref: str, alt: str, fetch: Fetch) -> tuple[int, str, str]:
    shared = _shared_prefix(ref[::-1], alt[::-1])
    ref, alt = ref[: len(ref) - shared], alt[: len(alt) - shared]
    if ref and alt:
        return start, ref, alt
    moved, indel = _slide_left(start, ref or alt, fetch)
    start, ref, alt = start - moved, *((indel, "") if ref else ("", indel))
    if start == 0:
        after = fetch(len(ref), len(ref) + 1)  # the base right of REF
        return 0, ref + after, alt + after
    base = fetch(start - 1, start)
    return start - 1, base + ref, base + alt


def _slide_left(start: int, indel: str, fetch: Fetch) -> tuple[int, str]:
    """How many bases an inserted or deleted sequence at ``start`` moves left, and how it reads
    there: it moves while the base before it equals its last base (which then goes in front).

    A block of reference at a time: a base at a time, a run of millions of bases (an N gap, a
    satellite array) took seconds per allele.
    """
    moved = 0
    while size := min(_SLIDE_BLOCK, start - moved):
        text = fetch(start - moved - size, start - moved) + indel
        run = _repeat_run(text, len(indel), size)
        moved, indel = moved + run, text[size - run : size - run + len(indel)]
        if run < size:
            break
    return moved, indel


def _repeat_run(text: str, period: int, size: int) -> int:
    """The largest ``run`` <= ``size`` with ``text[size - run + i] == text[size - run + i +
    period]`` for every ``i < run``: found by halving, with C-speed slice comparisons."""
    low, high = 0, size
    while low < high:
        run = (low + high + 1) // 2
        if text[size - run : size] == text[size - run + period : size + period]:
            low = run
        else:
            high = run - 1
    return low


def _shared_prefix(one: str, other: str) -> int:
    """How many leading characters two strings share. Shared ends are cut in one slice: cut a
    base at a time, a 300 kb allele (one upload line) took seconds, since each cut copies it."""
    return len(os.path.commonprefix((one, other)))
