"""The variant tracks job: predicted reference, alternative and alt − ref coverage around one
variant, for the genome browser.

Units: a model predicts reads per bin (32 bp for Borzoi and the yeast model) and the observed
bigWigs beside them hold reads at each base. The predicted bigWigs are written as reads per base
(``per_base``: each bin's value ÷ the bin width, over each of its bases), so igv.js draws
observed and predicted on one axis, and its mean over a zoomed-out pixel compares like with
like. Converting the small predicted files, rather than binning the observed ones, leaves the
observed bigWigs as they are: the page serves them by byte range before any prediction exists.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from engine.io.bigwig import COVERAGE_UNIT, write_bigwig
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.models.base import ModelAdapter
from engine.models.runtime import autocast
from engine.variants.effects import allele_profiles


def per_base(values: np.ndarray, model: ModelAdapter, tracks: Sequence[int]) -> np.ndarray:
    """Predictions of ``tracks`` as reads per base (``COVERAGE_UNIT``).

    Args:
        values: shape ``(bins, T)``, the model's untransformed output for ``tracks``.
        model: the model that predicted them (bin width, and each track's ``sum_stat``).
        tracks: the model's indices of the ``T`` columns.

    Returns:
        ``(bins, T)`` float32: a "sum" or "sum_sqrt" track's bin value ÷ the bin width; a "mean"
        track (many of Borzoi's) already predicts the mean per base and is kept as it is.
    """
    widths = [
        1 if model.tracks.tracks[index].sum_stat == "mean" else model.bin_size for index in tracks
    ]
    return np.asarray(values, dtype=np.float32) / np.asarray(widths, dtype=np.float32)  # (bins, T)


def write_variant_tracks(
    model: ModelAdapter, fasta: Path, variant: Variant, tracks: list[int], out_dir: Path
) -> tuple[Interval, list[tuple[Path, str]]]:
    """Predicted reference, alternative and alt − ref coverage around one variant, as bigWigs
    (one of each per track) on the genome's bin grid, in reads per base (``per_base``), for
    the genome browser.

    Returns:
        The predicted interval and ``(path, description)`` for every file written.
    """
    genome = Genome(fasta)
    try:
        start = (variant.start - model.sequence_length // 2) // model.bin_size * model.bin_size
        with torch.inference_mode(), autocast(model.device):
            ref, alt = allele_profiles(model, genome, variant, tracks, start)
        ref, alt = ref[0].float().cpu().numpy(), alt[0].float().cpu().numpy()  # (bins, T)
        ref, alt = per_base(ref, model, tracks), per_base(alt, model, tracks)
        first = start + model.crop_bp
        interval = Interval(variant.chrom, first, first + ref.shape[0] * model.bin_size)
        files = []
        for column, index in enumerate(tracks):
            ident = model.tracks.tracks[index].identifier
            for label, values in (("ref", ref), ("alt", alt), ("delta", alt - ref)):
                path = out_dir / f"{label}.{ident}.bw"
                write_bigwig(
                    path,
                    genome.contig_lengths,
                    [(interval, values[:, column])],
                    bin_size=model.bin_size,
                )
                files.append((path, f"Predicted {TRACK_LABELS[label]}, {ident} ({COVERAGE_UNIT})"))
    finally:
        genome.close()
    return interval, files


TRACK_LABELS = {
    "ref": "reference allele",
    "alt": "alternative allele",
    "delta": "alternative − reference",
}
