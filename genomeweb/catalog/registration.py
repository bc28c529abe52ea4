"""Register models (predictors) and observed tracks in the catalog. No torch here: everything
is read from the weights folders' config.json files and track tables."""

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from engine.io.files import configured_shifts, sha256_file, weights_file
from genomeweb.catalog.loading import stored_path
from genomeweb.catalog.models import Architecture, Genome, ObservedTrack, Predictor, PredictorTrack
from genomeweb.catalog.tracks import TrackRow, split_description, strand_of


@dataclass(frozen=True)
class Geometry:
    sequence_length: int
    bin_size: int
    crop_bp: int


# Published input geometry (MODEL_NOTES.md): Borzoi/Flashzoi predict 6,144 bins of 32 bp over
# the central 196,608 bp of 524,288; Enformer 896 bins of 128 bp over the central 114,688 bp.
GEOMETRY = {
    Architecture.BORZOI: Geometry(524_288, 32, 163_840),
    Architecture.FLASHZOI: Geometry(524_288, 32, 163_840),
    Architecture.ENFORMER: Geometry(196_608, 128, 40_960),
}


def replicate_entries(directories: list[Path]) -> list[dict]:
    """``[{"path", "sha256"}]`` for each weights folder (fold), hashing its weights file."""
    entries = []
    for directory in directories:
        if not (directory / "config.json").is_file():
            raise ValueError(f"{directory} has no config.json")
        entries.append(
            {"path": stored_path(directory), "sha256": sha256_file(weights_file(directory))}
        )
    return entries


def yeast_geometry_and_tracks(directory: Path) -> tuple[Geometry, list[TrackRow]]:
    config = json.loads((directory / "config.json").read_text())
    geometry = Geometry(config["sequence_length"], 32, config["crop_bp"])
    tracks = [
        TrackRow(
            index=i,
            identifier=ident,
            description=ident.removeprefix("stripeseq_"),
            assay="STRIPE-seq",
            sample=ident.removeprefix("stripeseq_").rsplit(".", 1)[0],
            strand="+" if ident.endswith(".plus") else "-",
            strand_pair=pair,
            scale=1.0,
            clip_soft=None,
            sum_stat="sum",
        )
        for i, (ident, pair) in enumerate(
            zip(config["track_ids"], config["strand_pairs"], strict=True)
        )
    ]
    return geometry, tracks


def borzoi_targets_path() -> Path:
    """The human targets table shipped inside borzoi-pytorch, found without importing it."""
    spec = importlib.util.find_spec("borzoi_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("borzoi-pytorch is not installed; pass --targets")
    return Path(next(iter(spec.submodule_search_locations))) / "precomputed" / "targets.txt"


@transaction.atomic
def register_predictor(
    *,
    name: str,
    architecture: str,
    genome: Genome,
    directories: list[Path],
    tracks: list[TrackRow],
    geometry: Geometry,
    description: str = "",
    default_shifts: list[int] | None = None,
) -> Predictor:
    """Create or replace the predictor ``name`` and its track table; ``default_shifts`` default
    to what the first weights folder's config.json names."""
    predictor, _ = Predictor.objects.update_or_create(
        name=name,
        defaults={
            "architecture": architecture,
            "genome": genome,
            "description": description,
            "replicates": replicate_entries(directories),
            "sequence_length": geometry.sequence_length,
            "bin_size": geometry.bin_size,
            "crop_bp": geometry.crop_bp,
            "default_shifts": default_shifts or configured_shifts(directories[0]),
        },
    )
    predictor.tracks.all().delete()
    PredictorTrack.objects.bulk_create(
        [
            PredictorTrack(
                predictor=predictor,
                index=t.index,
                identifier=t.identifier,
                description=t.description,
                assay=t.assay,
                sample=t.sample,
                strand=t.strand,
                strand_pair=t.strand_pair,
                scale=t.scale,
                clip_soft=t.clip_soft,
                sum_stat=t.sum_stat,
            )
            for t in tracks
        ],
        batch_size=2000,
    )
    return predictor


def register_observed(genome: Genome, path: Path, *, description: str = "") -> ObservedTrack:
    """Register a bigWig; its name is the file stem (``stripeseq_S288C_WT_1.plus``)."""
    name = path.name.removesuffix(".bw").removesuffix(".bigWig").removesuffix(".bigwig")
    assay, sample = split_description(description) if description else ("", name)
    observed, _ = ObservedTrack.objects.update_or_create(
        genome=genome,
        name=name,
        defaults={
            "path": stored_path(path),
            "sha256": sha256_file(path),
            "description": description,
            "assay": assay,
            "sample": sample,
            "strand": _observed_strand(name),
        },
    )
    return observed


def _observed_strand(name: str) -> str:
    if name.endswith((".plus", ".+")):
        return "+"
    if name.endswith((".minus", ".-")):
        return "-"
    return strand_of(name)


def pair_observed_tracks(predictor: Predictor) -> int:
    """Link each predictor track to the observed track of the same name; returns how many."""
    observed = {o.name: o for o in ObservedTrack.objects.filter(genome=predictor.genome)}
    linked = 0
    for track in predictor.tracks.filter(identifier__in=observed):
        track.observed = observed[track.identifier]
        track.save(update_fields=["observed"])
        linked += 1
    return linked
