from pathlib import Path

import numpy as np
import pytest

from engine.io.bigwig import chrom_sizes, read_entries, read_values, write_bigwig
from engine.io.intervals import Interval

SIZES = {"I": 100, "II": 50}


@pytest.fixture
def track(tmp_path: Path) -> Path:
    """I:10-20 holds 1, 2, ..., 10 (one value per base); the rest of I and all of II are empty."""
    path = tmp_path / "track.bw"
    write_bigwig(path, SIZES, [(Interval("I", 10, 20), np.arange(1, 11, dtype=np.float32))])
    return path


def test_chrom_sizes_reads_the_header_in_order(track: Path) -> None:
    assert list(chrom_sizes(track).items()) == [("I", 100), ("II", 50)]


def test_it_reads_back_written_values(track: Path) -> None:
    values = read_values(track, Interval("I", 10, 20))
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, np.arange(1, 11))


def test_missing_data_reads_as_zero(track: Path) -> None:
    values = read_values(track, Interval("I", 5, 12))
    np.testing.assert_array_equal(values, [0, 0, 0, 0, 0, 1, 2])


def test_it_sums_values_within_each_bin(track: Path) -> None:
    values = read_values(track, Interval("I", 10, 20), bin_size=5)
    np.testing.assert_array_equal(values, [1 + 2 + 3 + 4 + 5, 6 + 7 + 8 + 9 + 10])


def test_it_rejects_a_bin_size_that_does_not_divide_the_length(track: Path) -> None:
    with pytest.raises(ValueError, match="bin_size"):
        read_values(track, Interval("I", 10, 20), bin_size=3)


def test_it_pads_before_the_contig_start(track: Path) -> None:
    values = read_values(track, Interval("I", -10, 12))
    assert values.shape == (22,)
    np.testing.assert_array_equal(values[-2:], [1, 2])
    assert not values[:-2].any()


def test_it_pads_past_the_contig_end(tmp_path: Path) -> None:
    path = tmp_path / "end.bw"
    write_bigwig(path, SIZES, [(Interval("II", 45, 50), np.full(5, 3.0))])
    values = read_values(path, Interval("II", 40, 60), bin_size=5)
    np.testing.assert_array_equal(values, [0, 15, 0, 0])


def test_a_contig_with_no_data_reads_as_zeros(track: Path) -> None:
    np.testing.assert_array_equal(read_values(track, Interval("II", 0, 50)), np.zeros(50))


def test_a_file_with_no_data_reads_as_zeros(tmp_path: Path) -> None:
    path = tmp_path / "empty.bw"
    write_bigwig(path, SIZES, [])
    np.testing.assert_array_equal(read_values(path, Interval("I", 0, 10)), np.zeros(10))


def test_it_raises_key_error_for_an_unknown_contig(track: Path) -> None:
    with pytest.raises(KeyError, match="chrI"):
        read_values(track, Interval("chrI", 0, 10))


def test_it_reports_a_file_that_is_not_a_bigwig(tmp_path: Path) -> None:
    path = tmp_path / "fake.bw"
    path.write_text("not a bigwig\n")
    with pytest.raises(ValueError, match="not a readable bigWig"):
        read_values(path, Interval("I", 0, 10))


def test_it_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_values(tmp_path / "missing.bw", Interval("I", 0, 10))


def test_it_writes_binned_values_as_fixed_steps(tmp_path: Path) -> None:
    path = tmp_path / "binned.bw"
    write_bigwig(path, SIZES, [(Interval("I", 40, 60), np.array([1.0, 2.0]))], bin_size=10)
    expected = [0, 0] + [1] * 10 + [2] * 10 + [0, 0]
    np.testing.assert_array_equal(read_values(path, Interval("I", 38, 62)), expected)


def test_it_sorts_tracks_into_header_order(tmp_path: Path) -> None:
    path = tmp_path / "sorted.bw"
    tracks = [
        (Interval("II", 0, 2), np.array([5.0, 6.0])),
        (Interval("I", 50, 52), np.array([3.0, 4.0])),
        (Interval("I", 0, 2), np.array([1.0, 2.0])),
    ]
    write_bigwig(path, SIZES, tracks)
    for interval, values in tracks:
        np.testing.assert_array_equal(read_values(path, interval), values)


def test_it_skips_bins_off_the_contig(tmp_path: Path) -> None:
    path = tmp_path / "clipped.bw"
    # Bins start at -10, 0, ..., 40, 50: the first and the last (past II's 50 bp) are skipped.
    values = np.arange(1, 8, dtype=np.float64)
    write_bigwig(path, SIZES, [(Interval("II", -10, 60), values)], bin_size=10)
    np.testing.assert_array_equal(
        read_values(path, Interval("II", -10, 60), bin_size=10), [0, 20, 30, 40, 50, 60, 0]
    )


def test_it_replaces_an_existing_file_and_leaves_no_temp_files(track: Path) -> None:
    write_bigwig(track, SIZES, [(Interval("I", 10, 20), np.full(10, 7.0))])
    np.testing.assert_array_equal(read_values(track, Interval("I", 10, 12)), [7, 7])
    assert [p.name for p in track.parent.iterdir()] == ["track.bw"]


def test_a_failed_write_keeps_the_old_file(track: Path) -> None:
    with pytest.raises(ValueError, match="not in chrom_sizes"):
        write_bigwig(track, SIZES, [(Interval("III", 0, 10), np.zeros(10))])
    np.testing.assert_array_equal(read_values(track, Interval("I", 10, 12)), [1, 2])
    assert [p.name for p in track.parent.iterdir()] == ["track.bw"]


def test_it_rejects_values_of_the_wrong_length(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs 2 values"):
        write_bigwig(tmp_path / "x.bw", SIZES, [(Interval("I", 0, 20), np.zeros(3))], bin_size=10)


def test_it_rejects_overlapping_tracks(tmp_path: Path) -> None:
    tracks = [(Interval("I", 0, 10), np.zeros(10)), (Interval("I", 5, 15), np.zeros(10))]
    with pytest.raises(ValueError, match="overlap"):
        write_bigwig(tmp_path / "x.bw", SIZES, tracks)


def test_an_interrupted_write_removes_its_temp_file(
    track: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_rename(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("engine.io.bigwig.os.replace", fail_rename)
    with pytest.raises(OSError, match="disk full"):
        write_bigwig(track, SIZES, [(Interval("I", 10, 20), np.full(10, 7.0))])
    assert [p.name for p in track.parent.iterdir()] == ["track.bw"]
    np.testing.assert_array_equal(read_values(track, Interval("I", 10, 12)), [1, 2])


def test_read_entries_gives_the_stored_entries_clipped_to_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "bins.bw"
    values = np.array([1.0, np.nan, 3.0, 4.0])
    write_bigwig(path, SIZES, [(Interval("I", 0, 40), values)], bin_size=10)
    # The NaN bin is not an entry; the first and last bins are cut at the interval's ends.
    assert read_entries(path, Interval("I", 5, 35)) == [(5, 10, 1.0), (20, 30, 3.0), (30, 35, 4.0)]


def test_read_entries_is_empty_off_the_data_and_off_the_contig(track: Path) -> None:
    assert read_entries(track, Interval("I", 30, 40)) == []
    assert read_entries(track, Interval("I", 100, 120)) == []
    assert read_entries(track, Interval("II", 0, 50)) == []
    assert read_entries(track, Interval("I", -5, 11)) == [(10, 11, 1.0)]


def test_read_entries_rejects_an_unknown_contig(track: Path) -> None:
    with pytest.raises(KeyError, match="III"):
        read_entries(track, Interval("III", 0, 10))
