"""In silico saturation mutagenesis: its limits, its cost, and the one summary of a position
that the bigWig, the igv.js letters, the logo and the motif scan all use."""

import numpy as np

BASES = "ACGT"

MAX_ISM_BP = 2_000  # 6,000 mutants: minutes on a CPU for the demo model, hours for Borzoi
FOCUSED_ISM_BP = 192  # MODEL_NOTES.md's focused-ISM recipe, and the default ISM width
# An ISM stretch is chosen because it matters: much of it is signal, so its own median and MAD
# overstate the noise that ``important_segments`` measures against (8 MADs suits a saliency map
# over a whole window). At 2.5, HIS3's promoter gives its TATA stretch and CCAAT box.
ISM_NOISE_MADS = 2.5


def ism_passes(positions: int, per_pass: int) -> int:
    """Forward passes an ISM of ``positions`` bp costs: 3 mutants per base plus the reference,
    each × the ensemble's passes (reverse complement × shifts × replicates)."""
    return (3 * positions + 1) * per_pass


def mean_substitution_effect(effects: np.ndarray, reference: str) -> np.ndarray:
    """(L,) mean objective change of a position's substitutions: the three other bases at
    A, C, G or T (the reference column is 0), all four at an N. Its negative is the reference
    base's importance: mutating an important base lowers the objective."""
    effects = np.asarray(effects, dtype=np.float64)
    known = np.array([base in BASES for base in reference.upper()])
    return effects.sum(axis=1) / np.where(known, 3, 4)
