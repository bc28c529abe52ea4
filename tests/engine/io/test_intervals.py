import re

import pytest

from engine.io.intervals import Interval


def test_its_length_is_end_minus_start() -> None:
    assert len(Interval("I", 10, 25)) == 15


def test_it_rejects_an_end_before_the_start() -> None:
    with pytest.raises(ValueError, match="before its start"):
        Interval("I", 10, 9)


def test_it_allows_a_negative_start_for_padded_windows() -> None:
    assert len(Interval("I", -5, 5)) == 10


def test_to_ucsc_shows_a_one_based_start() -> None:
    assert Interval("chrI", 0, 10).to_ucsc() == "chrI:1-10"


def test_parse_reads_a_one_based_inclusive_region() -> None:
    assert Interval.parse("chrI:1,001-2,000") == Interval("chrI", 1000, 2000)


@pytest.mark.parametrize("interval", [Interval("I", 0, 1), Interval("chrXVI", 12_345, 67_890)])
def test_parse_and_to_ucsc_round_trip(interval: Interval) -> None:
    assert Interval.parse(interval.to_ucsc()) == interval


def test_parse_reads_a_single_base_region() -> None:
    assert Interval.parse("chrI:5-5") == Interval("chrI", 4, 5)


def test_parse_keeps_colons_inside_the_contig_name() -> None:
    assert Interval.parse("HLA-A*01:01:1-10").chrom == "HLA-A*01:01"


@pytest.mark.parametrize("text", ["chrI", "chrI:10", ":1-10", "chrI:a-10", "chrI:0-10", "chrI:6-5"])
def test_parse_rejects_malformed_regions(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"'{text}'")):  # the message quotes the input
        Interval.parse(text)


def test_resize_keeps_the_centre() -> None:
    resized = Interval("I", 100, 110).resize(20)
    assert resized == Interval("I", 95, 115)
    assert resized.center == Interval("I", 100, 110).center


def test_overlaps_needs_the_same_contig_and_shared_bases() -> None:
    assert Interval("I", 0, 10).overlaps(Interval("I", 9, 20))
    assert not Interval("I", 0, 10).overlaps(Interval("I", 10, 20))  # half-open: touching only
    assert not Interval("I", 0, 10).overlaps(Interval("II", 0, 10))
