"""Edits on a reference window: validation, application, diff, coordinate maps, pastes."""

import random

import pytest

from engine.designs.edits import (
    DELETION,
    INSERTION,
    REPLACEMENT,
    SUBSTITUTION,
    Edit,
    apply_edits,
    diff,
    edited_position,
    edited_to_reference,
    edits_for_paste,
    parse_sequence,
    reference_position,
    reference_to_edited,
    validate_edits,
)
from engine.io.intervals import Interval

REF = "ACGTACGTAC"  # window positions 0..9
WINDOW = Interval("II", 1000, 1010)  # genome 1-based II:1,001-1,010


def test_each_kind_applies():
    assert apply_edits(REF, [Edit(SUBSTITUTION, 1, 3, "TT")]) == "ATTTACGTAC"
    assert apply_edits(REF, [Edit(INSERTION, 2, 2, "GGG")]) == "ACGGGGTACGTAC"
    assert apply_edits(REF, [Edit(DELETION, 0, 4)]) == "ACGTAC"
    assert apply_edits(REF, [Edit(REPLACEMENT, 8, 10, "N")]) == "ACGTACGTN"


def test_an_insertion_at_the_window_end_appends():
    assert apply_edits(REF, [Edit(INSERTION, 10, 10, "GG")]) == REF + "GG"


def test_edits_apply_in_any_order():
    edits = [Edit(DELETION, 6, 8), Edit(INSERTION, 0, 0, "T"), Edit(SUBSTITUTION, 2, 3, "A")]
    assert apply_edits(REF, edits) == apply_edits(REF, list(reversed(edits))) == "TACATACAC"


def test_an_insertion_may_touch_a_deletion_on_either_side():
    edits = [Edit(INSERTION, 2, 2, "CC"), Edit(DELETION, 2, 4), Edit(INSERTION, 4, 4, "AA")]
    assert apply_edits(REF, edits) == "AC" + "CC" + "AA" + "ACGTAC"


def test_validation_sorts_by_position():
    edits = [Edit(DELETION, 5, 6), Edit(DELETION, 2, 4), Edit(INSERTION, 2, 2, "A")]
    ordered = validate_edits(edits, WINDOW)
    assert [(e.start, e.kind) for e in ordered] == [(2, INSERTION), (2, DELETION), (5, DELETION)]


@pytest.mark.parametrize(
    "edit, message",
    [
        (Edit("inversion", 1, 3), "'inversion' is not a kind of edit"),
        (
            Edit(DELETION, 8, 12),
            "The deletion at II:1,009-1,012 is outside the design window II:1,001-1,010",
        ),
        (Edit(INSERTION, -1, -1, "A"), "insertion before II:1,000 is outside"),
        (Edit(INSERTION, 2, 4, "A"), "start and end are equal"),
        (Edit(INSERTION, 2, 2, ""), "The insertion before II:1,003 has no new bases"),
        (Edit(DELETION, 2, 3, "A"), "The deletion at II:1,003 has new bases"),
        (Edit(DELETION, 3, 3), "The deletion at II:1,004 covers no reference base"),
        (Edit(SUBSTITUTION, 2, 4, "A"), "replaces 2 bases with 1; a substitution keeps"),
        (Edit(SUBSTITUTION, 2, 3, "X"), "contain 'X' at base 1"),
        (Edit(INSERTION, 2, 2, "acg"), "contain 'a' at base 1"),
        (Edit(REPLACEMENT, 5, 3, "A"), "ends before it starts"),
    ],
)
def test_it_explains_a_bad_edit_with_genome_positions(edit, message):
    with pytest.raises(ValueError, match=message):
        validate_edits([edit], WINDOW)


def test_it_refuses_overlapping_edits():
    with pytest.raises(
        ValueError, match="The substitution at II:1,004 overlaps the deletion at II:1,003-1,006"
    ):
        validate_edits([Edit(DELETION, 2, 6), Edit(SUBSTITUTION, 3, 4, "A")], WINDOW)


def test_it_refuses_an_insertion_inside_a_deletion():
    with pytest.raises(ValueError, match="insertion before II:1,004 overlaps"):
        validate_edits([Edit(DELETION, 2, 6), Edit(INSERTION, 3, 3, "A")], WINDOW)


def test_it_refuses_two_insertions_at_one_position():
    with pytest.raises(ValueError, match="two insertions before II:1,004.*combine them"):
        validate_edits([Edit(INSERTION, 3, 3, "A"), Edit(INSERTION, 3, 3, "C")], WINDOW)


def test_apply_edits_words_positions_without_a_window():
    with pytest.raises(ValueError, match="position 12"):
        apply_edits(REF, [Edit(DELETION, 11, 12)])


def test_edits_round_trip_through_dicts():
    edit = Edit(INSERTION, 3, 3, "ACGT", "GAL4 (MA0299.1)")
    assert Edit.from_dict(edit.to_dict()) == edit
    assert edit.length_change == 4 and Edit(DELETION, 0, 3).length_change == -3


def test_the_diff_splits_the_window_into_segments():
    edits = [
        Edit(SUBSTITUTION, 1, 2, "T"),
        Edit(INSERTION, 4, 4, "GG", "motif"),
        Edit(DELETION, 6, 8),
    ]
    segments = diff(REF, edits)
    assert [(s.kind, s.ref_start, s.ref_end, s.edited_start, s.edited_end) for s in segments] == [
        ("equal", 0, 1, 0, 1),
        ("substituted", 1, 2, 1, 2),
        ("equal", 2, 4, 2, 4),
        ("inserted", 4, 4, 4, 6),
        ("equal", 4, 6, 6, 8),
        ("deleted", 6, 8, 8, 8),
        ("equal", 8, 10, 8, 10),
    ]
    assert segments[1].reference == "C" and segments[1].edited == "T"
    assert segments[3].label == "motif"


def test_with_no_edits_the_diff_is_one_equal_segment():
    assert [s.kind for s in diff(REF, [])] == ["equal"]
    assert diff("", []) == []


def test_the_maps_follow_an_insertion_and_a_deletion():
    segments = diff(REF, [Edit(INSERTION, 2, 2, "GG"), Edit(DELETION, 5, 7)])
    assert edited_to_reference(segments) == [0, 1, None, None, 2, 3, 4, 7, 8, 9]
    assert reference_to_edited(segments) == [0, 1, 4, 5, 6, None, None, 7, 8, 9]
    assert reference_position(segments, 2) is None
    assert reference_position(segments, 7) == 7  # shifted by +2, then back by -2
    assert edited_position(segments, 5) is None
    assert edited_position(segments, 2) == 4
    assert reference_position(segments, 10) is None and edited_position(segments, -1) is None


def test_a_length_changing_replacement_has_no_reference_positions():
    segments = diff(REF, [Edit(REPLACEMENT, 2, 4, "AAA")])
    assert edited_to_reference(segments) == [0, 1, None, None, None, 4, 5, 6, 7, 8, 9]
    same_length = diff(REF, [Edit(REPLACEMENT, 2, 4, "AA")])
    assert edited_to_reference(same_length) == list(range(10))


# --- property tests: random edits against an independent, base-by-base model -----------------


def random_edits(rng: random.Random, length: int) -> list[Edit]:
    """Non-overlapping edits of every kind, built by walking along the reference."""
    edits = []
    position = 0
    while position <= length:
        if rng.random() < 0.15:
            edits.append(Edit(INSERTION, position, position, random_bases(rng, 1, 6)))
        if position < length and rng.random() < 0.3:
            span = rng.randint(1, min(6, length - position))
            kind = rng.choice([SUBSTITUTION, DELETION, REPLACEMENT])
            sequence = {
                SUBSTITUTION: random_bases(rng, span, span),
                DELETION: "",
                REPLACEMENT: random_bases(rng, 1, 8),
            }[kind]
            edits.append(Edit(kind, position, position + span, sequence))
            position += span
        position += rng.randint(1, 4)
    rng.shuffle(edits)
    return edits


def random_bases(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice("ACGTN") for _ in range(rng.randint(low, high)))


def apply_base_by_base(reference: str, edits: list[Edit]) -> list[tuple[str, int | None]]:
    """The oracle: (base, reference position or None) per edited base, edits applied from the
    right so earlier positions stay valid. Same-length substitutions keep their positions."""
    cells: list[tuple[str, int | None]] = [(b, i) for i, b in enumerate(reference)]
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        span = edit.end - edit.start
        if span == len(edit.sequence):
            new = [(b, edit.start + i) for i, b in enumerate(edit.sequence)]
        else:
            new = [(b, None) for b in edit.sequence]
        cells[edit.start : edit.end] = new
    return cells


def for_seeds(seeds: range):
    """Run a property check once per seed, naming the seed of the first failure."""

    def decorate(check):
        def run():
            for seed in seeds:
                try:
                    check(random.Random(seed))
                except AssertionError as error:
                    raise AssertionError(f"seed {seed}: {error}") from error

        run.__name__ = check.__name__
        return run

    return decorate


@for_seeds(range(500))
def test_random_edits_agree_with_the_base_by_base_model(rng):
    reference = random_bases(rng, 0, 40)
    edits = random_edits(rng, len(reference))
    edited = apply_edits(reference, edits)
    oracle = apply_base_by_base(reference, edits)
    assert edited == "".join(base for base, _ in oracle)
    segments = diff(reference, edits)
    assert "".join(s.edited for s in segments) == edited
    assert "".join(s.reference for s in segments) == reference
    assert edited_to_reference(segments) == [pos for _, pos in oracle]


@for_seeds(range(1000, 1500))
def test_random_maps_are_inverse_and_consistent(rng):
    reference = random_bases(rng, 1, 40)
    edits = random_edits(rng, len(reference))
    edited = apply_edits(reference, edits)
    segments = diff(reference, edits)
    forward = edited_to_reference(segments)
    backward = reference_to_edited(segments)
    assert len(forward) == len(edited) and len(backward) == len(reference)
    for edited_pos, ref_pos in enumerate(forward):
        assert reference_position(segments, edited_pos) == ref_pos
        if ref_pos is not None:
            assert backward[ref_pos] == edited_pos
    for ref_pos, edited_pos in enumerate(backward):
        assert edited_position(segments, ref_pos) == edited_pos
        if edited_pos is not None:
            assert forward[edited_pos] == ref_pos
    mapped = [p for p in forward if p is not None]
    assert mapped == sorted(set(mapped))  # the map keeps the order of the reference
    unchanged = {i for s in segments if s.kind == "equal" for i in range(s.ref_start, s.ref_end)}
    for ref_pos in unchanged:
        assert edited[backward[ref_pos]] == reference[ref_pos]


@for_seeds(range(5000, 5200))
def test_random_overlapping_edits_are_refused(rng):
    reference = random_bases(rng, 10, 40)
    start = rng.randint(0, len(reference) - 3)
    first = Edit(DELETION, start, start + 3)
    inside = rng.randint(start + 1, start + 2)
    second = rng.choice(
        [Edit(INSERTION, inside, inside, "A"), Edit(SUBSTITUTION, inside, inside + 1, "A")]
    )
    with pytest.raises(ValueError, match="overlaps"):
        apply_edits(reference, [first, second])


# --- pastes ----------------------------------------------------------------------------------


def test_it_reads_one_fasta_record():
    text = ">my design\nacgt ACGT\r\n  nnAC\n\n"
    assert parse_sequence(text) == "ACGTACGTNNAC"


def test_it_reads_a_raw_sequence():
    assert parse_sequence("  ACGT\nTTGA  ") == "ACGTTTGA"


def test_it_names_the_offending_character_and_where_it_is():
    with pytest.raises(ValueError, match=r"Line 3, column 5 has 'R', which is not a base"):
        parse_sequence(">x\nACGT\nACGTRACGT\n")


def test_it_refuses_digits_as_in_genbank_dumps():
    with pytest.raises(ValueError, match="column 1 has '1'"):
        parse_sequence("1 acgt")


def test_it_refuses_two_records():
    with pytest.raises(ValueError, match=r"more than one sequence \(headers: a, b\)"):
        parse_sequence(">a\nACGT\n>b\nACGT\n")


def test_it_refuses_bases_before_a_header():
    with pytest.raises(ValueError, match="more than one sequence"):
        parse_sequence("ACGT\n>b\nACGT\n")


def test_it_refuses_an_empty_paste():
    with pytest.raises(ValueError, match="no bases"):
        parse_sequence(">empty\n\n")


@pytest.mark.parametrize(
    "pasted, expected",
    [
        (REF, []),
        ("ACGTTTACGTAC", [Edit(INSERTION, 4, 4, "TT", "pasted sequence")]),
        ("ACGTAC", [Edit(DELETION, 6, 10, "", "pasted sequence")]),
        ("ACGGACGTAC", [Edit(REPLACEMENT, 3, 4, "G", "pasted sequence")]),
        ("TTTT", [Edit(REPLACEMENT, 0, 10, "TTTT", "pasted sequence")]),
        ("ACGTACGTACAC", [Edit(INSERTION, 10, 10, "AC", "pasted sequence")]),
    ],
)
def test_a_paste_becomes_one_edit_over_what_differs(pasted, expected):
    assert edits_for_paste(REF, pasted) == expected
    assert apply_edits(REF, expected) == pasted


@for_seeds(range(9000, 9500))
def test_random_pastes_reproduce_the_pasted_sequence(rng):
    reference = random_bases(rng, 0, 30)
    pasted = apply_edits(reference, random_edits(rng, len(reference)))
    edits = edits_for_paste(reference, pasted)
    assert apply_edits(reference, edits) == pasted
    assert len(edits) <= 1
