import time

import numpy as np
import pytest

from engine.io.encoding import (
    decode,
    one_hot,
    one_hot_batch,
    reverse_complement,
    reverse_complement_onehot,
)


def test_one_hot_uses_acgt_column_order() -> None:
    expected = np.eye(4, dtype=np.float32)
    np.testing.assert_array_equal(one_hot("ACGT"), expected)


def test_one_hot_is_float32_shaped_length_by_four() -> None:
    x = one_hot("ACGTNACGTN")
    assert x.shape == (10, 4)
    assert x.dtype == np.float32


@pytest.mark.parametrize("letter", ["N", "R", "-", ".", "é"])
def test_unknown_letters_encode_as_all_zeros(letter: str) -> None:
    x = one_hot(f"A{letter}T")
    assert x.shape == (3, 4)
    np.testing.assert_array_equal(x[1], np.zeros(4, dtype=np.float32))
    assert x[0, 0] == x[2, 3] == 1.0


def test_lowercase_bases_encode_like_uppercase() -> None:
    np.testing.assert_array_equal(one_hot("acgtn"), one_hot("ACGTN"))


def test_one_hot_of_an_empty_sequence_has_no_rows() -> None:
    assert one_hot("").shape == (0, 4)


def test_one_hot_batch_stacks_sequences() -> None:
    x = one_hot_batch(["ACGT", "TTNA"])
    assert x.shape == (2, 4, 4)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x[1], one_hot("TTNA"))


def test_one_hot_batch_rejects_sequences_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        one_hot_batch(["ACGT", "ACG"])


def test_one_hot_batch_of_nothing_is_empty() -> None:
    assert one_hot_batch([]).shape == (0, 0, 4)


def test_decode_inverts_one_hot() -> None:
    seq = "ACGTNNAC"
    assert decode(one_hot(seq)) == seq


def test_decode_uppercases_and_turns_other_letters_into_n() -> None:
    assert decode(one_hot("acgRt")) == "ACGNT"


def test_decode_takes_the_largest_column_of_soft_rows() -> None:
    assert decode(np.array([[0.1, 0.2, 0.6, 0.1]])) == "G"


def test_decode_rejects_a_batch() -> None:
    with pytest.raises(ValueError, match=r"\(L, 4\)"):
        decode(one_hot_batch(["AC", "GT"]))


def test_reverse_complement_reverses_and_complements() -> None:
    assert reverse_complement("AACGTN") == "NACGTT"


def test_reverse_complement_uppercases_lowercase_input() -> None:
    assert reverse_complement("aacg") == "CGTT"


def test_reverse_complement_turns_other_letters_into_n() -> None:
    assert reverse_complement("ARY") == "NNT"


def test_reverse_complement_of_one_hot_matches_the_string_version() -> None:
    seq = "AACGTTTGNCA"
    rc = reverse_complement_onehot(one_hot(seq))
    assert decode(rc) == reverse_complement(seq)


def test_reverse_complement_of_a_batch_flips_each_sequence() -> None:
    seqs = ["AACG", "TNGC"]
    rc = reverse_complement_onehot(one_hot_batch(seqs))
    assert rc.shape == (2, 4, 4)
    assert [decode(row) for row in rc] == [reverse_complement(s) for s in seqs]


def test_reverse_complement_of_one_hot_returns_a_copy() -> None:
    x = one_hot("ACGT")
    rc = reverse_complement_onehot(x)
    rc[0] = 0.0
    assert decode(x) == "ACGT"


def test_reverse_complement_of_one_hot_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(4, 5\)"):
        reverse_complement_onehot(np.zeros((4, 5), dtype=np.float32))


def test_encoding_a_megabase_is_fast() -> None:
    seq = "ACGTN" * 200_000
    started = time.perf_counter()
    x = one_hot(seq)
    assert decode(reverse_complement_onehot(x)) == reverse_complement(seq)
    assert time.perf_counter() - started < 1.0  # a per-base Python loop takes several seconds
