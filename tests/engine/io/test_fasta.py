from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.io.fasta import Genome
from engine.io.intervals import Interval

DATA = Path(__file__).resolve().parents[2] / "data"
# chrI of S. cerevisiae starts with this telomeric repeat (first line of tests/data/mini.fa).
CHR_I_START = "CCACACCACACCCACACACCCACACACCACACCACACACCACACCACACCCACACACACA"


@pytest.fixture(params=["mini.fa", "mini.fa.gz"])
def genome(request: pytest.FixtureRequest) -> Iterator[Genome]:
    genome = Genome(DATA / request.param)
    yield genome
    genome.close()


def test_it_reads_contig_lengths_from_the_index(genome: Genome) -> None:
    assert genome.contig_lengths == {"I": 6000, "II": 4000}


def test_it_fetches_zero_based_half_open_sequence(genome: Genome) -> None:
    assert genome.fetch(Interval("I", 0, 60)) == CHR_I_START
    assert genome.fetch(Interval("I", 2, 5)) == CHR_I_START[2:5]


def test_bgzip_and_plain_fasta_give_the_same_sequence() -> None:
    plain, bgzip = Genome(DATA / "mini.fa"), Genome(DATA / "mini.fa.gz")
    for interval in [Interval("I", 0, 6000), Interval("II", 1234, 3999)]:
        assert plain.fetch(interval) == bgzip.fetch(interval)
    plain.close()
    bgzip.close()


def test_it_pads_before_the_contig_start(genome: Genome) -> None:
    assert genome.fetch(Interval("I", -3, 4)) == "NNN" + CHR_I_START[:4]


def test_it_pads_past_the_contig_end(genome: Genome) -> None:
    tail = genome.fetch(Interval("II", 3995, 4000))
    assert genome.fetch(Interval("II", 3995, 4003)) == tail + "NNN"


def test_it_pads_both_ends_of_a_window_wider_than_the_contig(genome: Genome) -> None:
    seq = genome.fetch(Interval("II", -10, 4010))
    assert len(seq) == 4020
    assert seq[:10] == seq[-10:] == "N" * 10
    assert seq[10:-10] == genome.fetch(Interval("II", 0, 4000))


def test_a_window_wholly_off_the_contig_is_all_padding(genome: Genome) -> None:
    assert genome.fetch(Interval("I", 7000, 7005), pad=".") == "....."


def test_it_returns_uppercase_sequence(genome: Genome) -> None:
    seq = genome.fetch(Interval("I", 0, 6000))
    assert seq == seq.upper()
    assert set(seq) <= set("ACGTN")


def test_it_raises_key_error_for_an_unknown_contig(genome: Genome) -> None:
    with pytest.raises(KeyError):
        genome.fetch(Interval("chrI", 0, 10))
