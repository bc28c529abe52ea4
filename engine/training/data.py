"""The yeast STRIPE-seq data, in memory: sequence codes and 32 bp binned TSS counts.

The split follows the fungal-LM yeast convention: chromosomes XII, XIV, XVI are the test set
and never touched by training or model selection; XI, XIII, XV are validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyBigWig

from engine.io.encoding import N_CODE, base_codes
from engine.io.fasta import Genome

TEST_CHROMS = ("XII", "XIV", "XVI")
VALID_CHROMS = ("XI", "XIII", "XV")
SAMPLES = ("S288C_WT_1", "S288C_WT_2", "S288C_WT_3", "S288C_D_1", "S288C_D_2", "S288C_D_3")
STRANDS = ("plus", "minus")
BIN_SIZE = 32


def track_ids() -> list[str]:
    """Track identifiers: the observed bigWigs' file stems, sample-major, plus then minus."""
    return [f"stripeseq_{sample}.{strand}" for sample in SAMPLES for strand in STRANDS]


def strand_pairs() -> list[int]:
    """Index of each track's opposite-strand partner (plus ↔ minus of the same sample)."""
    return [i + 1 if i % 2 == 0 else i - 1 for i in range(len(track_ids()))]


def train_chroms(all_chroms: list[str]) -> list[str]:
    return [c for c in all_chroms if c not in TEST_CHROMS + VALID_CHROMS]


@dataclass
class YeastData:
    """Per chromosome: base codes ``(L,)`` uint8 (ACGT = 0..3, N = 4) and counts
    ``(ceil(L / 32), tracks)`` float32, each bin the sum of TSS reads in its 32 bp."""

    codes: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]

    @classmethod
    def load(cls, data_dir: Path) -> YeastData:
        genome = Genome(data_dir / "sacCer3.fa.gz")
        codes, counts = {}, {}
        for chrom, length in genome.contig_lengths.items():
            codes[chrom] = base_codes(_whole(genome, chrom, length))
            counts[chrom] = np.stack(
                [binned_counts(data_dir / f"{t}.bw", chrom, length) for t in track_ids()], axis=1
            )
        genome.close()
        return cls(codes, counts)


def _whole(genome: Genome, chrom: str, length: int) -> str:
    from engine.io.intervals import Interval

    return genome.fetch(Interval(chrom, 0, length))


def binned_counts(path: Path, chrom: str, length: int) -> np.ndarray:
    """Reads per 32 bp bin over the whole chromosome; the last bin may be partial."""
    bigwig = pyBigWig.open(str(path))
    values = np.nan_to_num(np.asarray(bigwig.values(chrom, 0, length), dtype=np.float64))
    bigwig.close()
    padded = np.zeros(-(-length // BIN_SIZE) * BIN_SIZE)
    padded[:length] = values
    return padded.reshape(-1, BIN_SIZE).sum(axis=1).astype(np.float32)


def window_codes(codes: np.ndarray, start: int, length: int) -> np.ndarray:
    """Codes of ``[start, start + length)``, padded with N off the chromosome."""
    out = np.full(length, N_CODE, dtype=np.uint8)
    lo, hi = max(start, 0), min(start + length, len(codes))
    if hi > lo:
        out[lo - start : hi - start] = codes[lo:hi]
    return out


def window_counts(counts: np.ndarray, first_bin: int, bins: int) -> np.ndarray:
    out = np.zeros((bins, counts.shape[1]), dtype=np.float32)
    lo, hi = max(first_bin, 0), min(first_bin + bins, len(counts))
    if hi > lo:
        out[lo - first_bin : hi - first_bin] = counts[lo:hi]
    return out
