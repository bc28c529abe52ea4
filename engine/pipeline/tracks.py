"""The variant tracks job: predicted reference, alternative and alt − ref coverage around one
variant, for the genome browser."""

from pathlib import Path

import torch

from engine.io.bigwig import write_bigwig
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import Variant
from engine.models.base import ModelAdapter
from engine.models.runtime import autocast
from engine.variants.effects import allele_profiles


def write_variant_tracks(
    model: ModelAdapter, fasta: Path, variant: Variant, tracks: list[int], out_dir: Path
) -> tuple[Interval, list[tuple[Path, str]]]:
    """Predicted reference, alternative and alt − ref coverage around one variant, as bigWigs
    (one of each per track) on the genome's bin grid, for the genome browser.

    Returns:
        The predicted interval and ``(path, description)`` for every file written.
    """
    genome = Genome(fasta)
    try:
        start = (variant.start - model.sequence_length // 2) // model.bin_size * model.bin_size
        with torch.inference_mode(), autocast(model.device):
            ref, alt = allele_profiles(model, genome, variant, tracks, start)
        ref, alt = ref[0].float().cpu().numpy(), alt[0].float().cpu().numpy()  # (bins, T)
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
                files.append((path, f"Predicted {TRACK_LABELS[label]}, {ident}"))
    finally:
        genome.close()
    return interval, files


TRACK_LABELS = {
    "ref": "reference allele",
    "alt": "alternative allele",
    "delta": "alternative − reference",
}
