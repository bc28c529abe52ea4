"""How a large scoring job is cut into parts (engine.variants.windows.part_ranges)."""

from engine.variants.windows import even_size, part_ranges


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


def test_even_size_makes_as_few_parts_of_about_equal_size():
    assert even_size(260_526, 20_000) == 18_609  # 14 parts, not 13 full and one of 6,526
    assert even_size(40_000, 20_000) == 20_000
    assert even_size(40_001, 20_000) == 13_334
    assert even_size(5, 20_000) == 5
    assert even_size(0, 20_000) == 0
