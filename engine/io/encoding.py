"""Canonical sequence formats, documented once for the whole project.

Sequence strings
    Uppercase ``A``, ``C``, ``G``, ``T`` and ``N``. ``N`` stands for any unknown or padded base
    (``fasta.Genome.fetch`` pads off-contig positions with it).

One-hot arrays
    ``float32`` numpy arrays shaped ``(L, 4)`` for one sequence or ``(N, L, 4)`` for a batch of
    ``N`` sequences of equal length ``L``. The last axis is the base, in the order
    ``A, C, G, T`` (``BASES``). A known base is a row with a single 1.0; ``N`` and any other
    letter encode as an all-zero row, and an all-zero row decodes back to ``N``.
    Lowercase ``a c g t`` (soft-masked FASTA) encode like their uppercase letters.

Base codes
    ``uint8`` arrays shaped ``(L,)``: 0, 1, 2, 3 for ``A, C, G, T`` (either case) and
    ``N_CODE`` (4) for anything else; a compact form of a whole contig that windows are cut
    from before one-hot encoding (``models.tiling.codes_to_onehot``).

Because the base order is ``A, C, G, T``, the complement of a base is the base at the mirrored
index (A<->T, C<->G), so the reverse complement of a one-hot array is the array flipped along
both the length axis and the base axis.

Model adapters convert from these formats to whatever their network expects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BASES = "ACGT"
UNKNOWN_BASE = "N"

# Byte value -> one-hot row. Every byte not listed stays all zeros, which is how N, IUPAC codes
# and the "?" that replaces non-ASCII characters all become unknown bases without a branch.
_ONE_HOT_TABLE = np.zeros((256, 4), dtype=np.float32)
for _index, _base in enumerate(BASES):
    _ONE_HOT_TABLE[ord(_base), _index] = 1.0
    _ONE_HOT_TABLE[ord(_base.lower()), _index] = 1.0

# Byte value -> complement byte, for bytes.translate. Anything that is not ACGT (either case)
# complements to N, so the output is always canonical uppercase ACGTN.
_COMPLEMENT_TABLE = bytes(
    ord(dict(zip("ACGTacgt", "TGCATGCA", strict=True)).get(chr(byte), UNKNOWN_BASE))
    for byte in range(256)
)

N_CODE = 4
_CODES = np.full(256, N_CODE, dtype=np.uint8)
for _index, _base in enumerate(BASES):
    _CODES[ord(_base)] = _index
    _CODES[ord(_base.lower())] = _index

# Base index -> letter, with a fifth entry used for rows that are all zeros.
_DECODE_LETTERS = np.frombuffer((BASES + UNKNOWN_BASE).encode("ascii"), dtype=np.uint8)


def _as_bytes(seq: str) -> np.ndarray:
    """The sequence as a uint8 array, one byte per character; non-ASCII becomes ``?``."""
    return np.frombuffer(seq.encode("ascii", errors="replace"), dtype=np.uint8)


def base_codes(seq: str) -> np.ndarray:
    """``(L,)`` uint8 base codes of a DNA sequence (see the module docstring)."""
    return _CODES[_as_bytes(seq)]


def one_hot(seq: str) -> np.ndarray:
    """One-hot encode a DNA sequence.

    Args:
        seq: DNA letters; anything other than ACGT (either case) encodes as all zeros.

    Returns:
        float32 array of shape ``(L, 4)``, columns A, C, G, T.
    """
    return _ONE_HOT_TABLE[_as_bytes(seq)]


def one_hot_batch(seqs: Sequence[str]) -> np.ndarray:
    """One-hot encode sequences of equal length.

    Args:
        seqs: ``N`` DNA strings, all of length ``L``.

    Returns:
        float32 array of shape ``(N, L, 4)``; ``(0, 0, 4)`` when ``seqs`` is empty.

    Raises:
        ValueError: when the sequences differ in length.
    """
    lengths = {len(seq) for seq in seqs}
    if len(lengths) > 1:
        raise ValueError(f"sequences must all have the same length, got lengths {sorted(lengths)}")
    length = lengths.pop() if lengths else 0
    # Encode the concatenation in one table lookup instead of one lookup per sequence.
    return one_hot("".join(seqs)).reshape(len(seqs), length, 4)  # (N, L, 4)


def decode(onehot: np.ndarray) -> str:
    """Turn a one-hot array back into a sequence string.

    Args:
        onehot: array of shape ``(L, 4)``, columns A, C, G, T. Each row decodes to its largest
            column; all-zero rows decode to ``N``.

    Returns:
        An uppercase ACGTN string of length ``L``.

    Raises:
        ValueError: when the array is not shaped ``(L, 4)``.
    """
    array = np.asarray(onehot)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"expected a one-hot array of shape (L, 4), got {array.shape}")
    indices = np.where(array.any(axis=1), array.argmax(axis=1), len(BASES))  # (L,)
    return _DECODE_LETTERS[indices].tobytes().decode("ascii")


def reverse_complement(seq: str) -> str:
    """Reverse complement of a DNA sequence.

    Args:
        seq: DNA letters in either case.

    Returns:
        The uppercase reverse complement; anything other than ACGT becomes ``N``.
    """
    return seq.encode("ascii", errors="replace").translate(_COMPLEMENT_TABLE)[::-1].decode()


def reverse_complement_onehot(x: np.ndarray) -> np.ndarray:
    """Reverse complement of one-hot sequence(s).

    Args:
        x: array of shape ``(L, 4)`` or ``(N, L, 4)``, columns A, C, G, T.

    Returns:
        A new array of the same shape and dtype: flipped along the length axis and along the
        base axis (A<->T, C<->G).

    Raises:
        ValueError: when the array is not shaped ``(L, 4)`` or ``(N, L, 4)``.
    """
    if x.ndim not in (2, 3) or x.shape[-1] != 4:
        raise ValueError(f"expected shape (L, 4) or (N, L, 4), got {x.shape}")
    # Copy so callers can write to the result without touching the input through a view.
    return np.ascontiguousarray(x[..., ::-1, ::-1])
