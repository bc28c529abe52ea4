"""The search box's parser: what kind of query a text is, and its 0-based coordinates."""

import pytest

from engine.io.intervals import Interval
from genomeweb.variants.search import SearchKind, parse_search


@pytest.mark.parametrize(
    "text",
    [
        "II:278392 T>C",
        "chrII:278392 T>C",
        "II:278,392 T>C",
        "  II:278392   t>c ",
        "II:278392T>C",
        "chrII:g.278392T>C",
        "II:278392:T:C",
        "II:278392 T/C",
        "II-278392-T-C",
        "II 278392 T C",
        "II\t278392\tGAL10_up40\tT\tC",  # the first columns of a VCF line
    ],
)
def test_an_allele_is_read_in_each_common_spelling(text):
    query = parse_search(text)
    assert query.kind == SearchKind.ALLELE
    assert query.interval.start == 278_391 and len(query.interval) == 1
    assert (query.ref, query.alt) == ("T", "C")
    assert query.interval.chrom in ("II", "chrII")


def test_an_allele_keeps_the_contig_as_typed_for_the_genome_to_resolve():
    assert parse_search("chrII:278392 T>C").interval.chrom == "chrII"
    assert parse_search("NC_001134.8:g.278392T>C").interval.chrom == "NC_001134.8"


def test_an_indels_interval_covers_its_reference_bases():
    query = parse_search("II:300 ACGTA>A")
    assert query.interval == Interval("II", 299, 304)
    assert query.describe() == "II:300 ACGTA>A"


@pytest.mark.parametrize(
    "text",
    [
        "II:270,000-290,000",
        "chrII:270000-290000",
        "II:270000 - 290000",
        "II:270000..290000",
        "chrII:g.270000_290000",
        "II:270000–290000",  # an en dash, as pasted from a paper
    ],
)
def test_a_region_is_one_based_and_inclusive(text):
    query = parse_search(text)
    assert query.kind == SearchKind.REGION
    assert (query.interval.start, query.interval.end) == (269_999, 290_000)
    assert len(query.interval) == 20_001


def test_a_region_is_described_as_people_write_it():
    assert parse_search("chrII:270000-290000").on_contig("II").describe() == "II:270,000-290,000"


@pytest.mark.parametrize("text", ["II:278,392", "chrII:g.278392", "II:278392"])
def test_a_single_position_is_one_base(text):
    query = parse_search(text)
    assert query.kind == SearchKind.POSITION
    assert (query.interval.start, query.interval.end) == (278_391, 278_392)
    assert query.on_contig("II").describe() == "II:278,392"


@pytest.mark.parametrize("text", ["rs1234", "RS99", "rs7412"])
def test_an_rsid_is_recognised(text):
    assert parse_search(text).kind == SearchKind.RSID


@pytest.mark.parametrize("text", ["GAL10_up40", "GAL10", "YBR019C", "chrII", "II", "rs12x"])
def test_anything_else_is_a_name(text):
    query = parse_search(text)
    assert query.kind == SearchKind.NAME and query.interval is None
    assert query.describe() == f"'{text}'"


def test_blank_text_is_empty():
    assert parse_search("  \t ").kind == SearchKind.EMPTY


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("II:0 T>C", "count from 1"),
        ("II:0", "count from 1"),
        ("II:290,000-270,000", "ends before it starts"),
        ("II:5-5", None),  # one base: fine
    ],
)
def test_impossible_coordinates_are_explained(text, says):
    if says is None:
        assert len(parse_search(text).interval) == 1
        return
    with pytest.raises(ValueError, match=says):
        parse_search(text)


def test_blanks_inside_are_collapsed_in_the_text_kept():
    assert parse_search("  GAL10   up ").text == "GAL10 up"
