"""How a large scoring job is cut into parts (engine.variants.windows.part_ranges)."""

from engine.variants.windows import part_ranges


def test_no_alleles_no_parts():
    assert part_ranges([], 10, 100) == []


def test_a_set_smaller_than_a_part_is_one_part():
    assert part_ranges([("I", 5), ("I", 900)], 10, 100) == [(0, 2)]


def test_cuts_move_forward_to_the_next_tile():
    loci = [("I", 10), ("I", 20), ("I", 30), ("I", 150), ("II", 10), ("II", 20)]
    assert part_ranges(loci, 2, 100) == [(0, 3), (3, 6)]
    assert part_ranges(loci, 1, 100) == [(0, 3), (3, 4), (4, 6)]


def test_one_crowded_tile_stays_whole():
    loci = [("I", p) for p in range(50)]
    assert part_ranges(loci, 7, 100) == [(0, 50)]


def test_the_same_position_on_two_contigs_is_two_tiles():
    assert part_ranges([("I", 10), ("II", 10)], 1, 100) == [(0, 1), (1, 2)]


def test_guided_ranges_shrink_towards_the_end_between_least_and_size():
    loci = [("I", 10 * i) for i in range(100)]  # one allele per tile of 10 bp
    ranges = part_ranges(loci, 20, 10, least=5)
    sizes = [stop - first for first, stop in ranges]
    assert ranges[0][0] == 0 and ranges[-1][1] == 100
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert sizes == [20, 20, 15, 12, 9, 6, 5, 5, 5, 3]  # a quarter of what is left
    assert part_ranges(loci, 20, 10, least=1000) == part_ranges(loci, 20, 10)
