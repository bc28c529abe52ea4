import pytest

from engine.io.contigs import ContigResolver


@pytest.mark.parametrize(
    ("names", "query", "expected"),
    [
        (["I", "II"], "chrI", "I"),
        (["chrI", "chrII"], "I", "chrI"),
        (["1", "2"], "chr1", "1"),
        (["chr1", "chr2"], "1", "chr1"),
        (["1", "MT"], "chrM", "MT"),
        (["chr1", "chrM"], "MT", "chrM"),
    ],
)
def test_it_maps_common_spellings_to_the_genome_name(
    names: list[str], query: str, expected: str
) -> None:
    assert ContigResolver(names).resolve(query) == expected


def test_it_returns_none_for_an_unknown_contig() -> None:
    assert ContigResolver(["I", "II"]).resolve("chrXVII") is None


def test_it_does_not_map_a_roman_numeral_to_an_arabic_one() -> None:
    assert ContigResolver(["I"]).resolve("1") is None


def test_declared_aliases_are_resolved() -> None:
    resolver = ContigResolver(["NC_001133.9"], aliases={"I": "NC_001133.9"})
    assert resolver.resolve("I") == "NC_001133.9"


def test_a_genome_name_always_resolves_to_itself() -> None:
    # "chr1" derives the spelling "1", which must not shadow the genome's own contig "1".
    resolver = ContigResolver(["chr1", "1"])
    assert resolver.resolve("1") == "1"
    assert resolver.resolve("chr1") == "chr1"
