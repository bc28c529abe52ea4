"""Reading track tables (Borzoi's targets.txt layout) and searching them."""

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Q, QuerySet

from genomeweb.catalog.models import PredictorTrack

# Borzoi's targets.txt description is "ASSAY:sample", e.g. "CAGE:brain, adult".
KNOWN_ASSAYS = ("RNA", "CAGE", "DNASE", "ATAC", "CHIP")


@dataclass(frozen=True)
class TrackRow:
    index: int
    identifier: str
    description: str
    assay: str
    sample: str
    strand: str
    strand_pair: int
    scale: float
    clip_soft: float | None
    sum_stat: str


def split_description(description: str) -> tuple[str, str]:
    """``"CAGE:brain, adult"`` → ``("CAGE", "brain, adult")``; no prefix → ``("", text)``."""
    head, sep, rest = description.partition(":")
    if sep and head.upper() in KNOWN_ASSAYS:
        return head.upper(), rest.strip()
    return "", description.strip()


def strand_of(identifier: str) -> str:
    return identifier[-1] if identifier[-1:] in "+-" else "."


def read_targets(path: Path) -> list[TrackRow]:
    """Rows of a Borzoi/Basenji targets table (tab-separated, first column the index).

    Raises:
        ValueError: a required column is missing or a strand pair points outside the table.
    """
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    required = {"identifier", "description", "strand_pair"}
    if not rows or not required <= set(rows[0]):
        raise ValueError(f"{path} is not a targets table (needs columns {sorted(required)})")
    tracks = [_track_row(i, row) for i, row in enumerate(rows)]
    if any(not 0 <= t.strand_pair < len(tracks) for t in tracks):
        raise ValueError(f"{path}: a strand_pair points outside the table")
    return tracks


def _track_row(index: int, row: dict) -> TrackRow:
    assay, sample = split_description(row["description"])
    clip_soft = row.get("clip_soft", "")
    return TrackRow(
        index=index,
        identifier=row["identifier"],
        description=row["description"],
        assay=assay,
        sample=sample,
        strand=strand_of(row["identifier"]),
        strand_pair=int(row["strand_pair"]),
        scale=float(row.get("scale") or 1.0),
        clip_soft=float(clip_soft) if clip_soft not in ("", None) else None,
        sum_stat=row.get("sum_stat") or "sum",
    )


def search_tracks(tracks: QuerySet[PredictorTrack], query: str) -> QuerySet[PredictorTrack]:
    """Tracks whose identifier, description, assay or sample contains every word of ``query``."""
    for word in query.split():
        tracks = tracks.filter(
            Q(identifier__icontains=word)
            | Q(description__icontains=word)
            | Q(assay__iexact=word)
            | Q(sample__icontains=word)
        )
    return tracks
