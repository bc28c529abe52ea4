"""engine.io.alleles: every spelling of one haplotype becomes the same left-aligned allele."""

import random
import time

import pytest

from engine.io.alleles import normalize

#            0123456789012345678
REFERENCE = "GGCATTTTTGCACACAGTA"


def fetch(start: int, end: int) -> str:
    return REFERENCE[start:end]


def apply(start: int, ref: str, alt: str) -> str:
    """The haplotype an allele describes."""
    assert REFERENCE[start : start + len(ref)] == ref
    return REFERENCE[:start] + alt + REFERENCE[start + len(ref) :]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # one T deleted from the run TTTTT (4…8): anchored on the A before the run
        ((7, "TT", "T"), (3, "AT", "A")),
        ((8, "TG", "G"), (3, "AT", "A")),  # right-anchored spelling
        ((3, "ATTTTTG", "ATTTTG"), (3, "AT", "A")),  # extra shared bases on both sides
        # one T inserted into the run
        ((8, "T", "TT"), (3, "A", "AT")),
        # CA repeat (10…15): deleting one CA anywhere is the same haplotype
        ((13, "ACA", "A"), (9, "GCA", "G")),
        ((12, "CAC", "C"), (9, "GCA", "G")),
        # substitutions lose shared flanks but do not move
        ((4, "TT", "GT"), (4, "T", "G")),
        ((9, "GCA", "GTA"), (10, "C", "T")),
        ((2, "C", "G"), (2, "C", "G")),  # an SNV as is
        # already normalised
        ((3, "AT", "A"), (3, "AT", "A")),
    ],
)
def test_every_spelling_becomes_the_left_aligned_trimmed_allele(written, expected):
    assert normalize(*written, fetch) == expected
    assert apply(*written) == apply(*expected)  # the same haplotype


def test_at_the_contig_start_an_indel_keeps_its_anchor_on_the_right():
    # Deleting one G of GG (0…1): nothing to the left, so the anchor is the base after.
    assert normalize(1, "GC", "C", fetch) == (0, "GG", "G")
    assert apply(1, "GC", "C") == apply(0, "GG", "G")
    assert normalize(0, "G", "GG", fetch) == (0, "G", "GG")


def test_a_complex_allele_keeps_what_differs():
    # TTTTT → TAT: the shared T at either end goes, the rest stays as one allele
    assert normalize(4, "TTTTT", "TAT", fetch) == (5, "TTT", "A")
    assert apply(4, "TTTTT", "TAT") == apply(5, "TTT", "A")


def test_a_long_allele_is_trimmed_in_one_slice_not_a_base_at_a_time():
    # One upload line can hold a 400 kb REF and itself plus a base as ALT. Trimmed a base at a
    # time, each cut copied both alleles (O(length²)) and this took seconds.
    bases = "".join(random.Random(3).choice("ACGT") for _ in range(400_000))
    started = time.perf_counter()
    start, ref, alt = normalize(0, bases, bases + "A", lambda a, b: bases[a:b])
    assert time.perf_counter() - started < 1.0
    assert len(ref) == 1 and alt == ref + "A"  # one A inserted, left-aligned
    assert bases[: start + 1] + "A" + bases[start + 1 :] == bases + "A"  # the same haplotype


def test_an_indel_slides_through_a_run_of_millions_of_bases_in_a_moment():
    # hg38's N gaps and satellite arrays are megabases long; a base at a time, one allele in
    # such a run took seconds (a 30 Mb gap: ~90 s).
    run = "G" + "AC" * 1_000_000 + "T"
    started = time.perf_counter()
    assert normalize(len(run) - 4, "CAC", "C", lambda a, b: run[a:b]) == (0, "GAC", "G")
    assert normalize(len(run) - 2, "C", "CAC", lambda a, b: run[a:b]) == (0, "G", "GAC")
    assert time.perf_counter() - started < 1.0
