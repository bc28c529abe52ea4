"""Files that open a job's results in the tools biologists already use: a BED of the top hits
(any genome browser, bedtools) and an IGV desktop session that loads a bundle's tracks.

BED is 0-based half-open (as everywhere inside genomeweb); the session refers to the bundle's
files by paths relative to itself, so it opens from wherever the bundle was unzipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.io.files import replace_durably

_NAME_UNSAFE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


@dataclass(frozen=True)
class BedHit:
    """One scored allele: ``[start, end)`` of its reference bases (an insertion: its anchor)."""

    chrom: str
    start: int
    end: int
    name: str
    score: float | None  # the signed primary score
    percentile: float | None = None
    track: str = ""


def write_top_hits_bed(hits: Iterable[BedHit], path: Path, *, description: str) -> Path:
    """``top_hits_bed`` written to ``path``."""
    return _write(path, top_hits_bed(hits, description=description))


def top_hits_bed(hits: Iterable[BedHit], *, description: str) -> str:
    """BED6+3: chrom, start, end, name, shade (0-1000: ``|score|`` relative to the largest of
    these hits, for browsers that shade by it), strand ``.``, then the signed score, its
    percentile (``.``: none) and its track. A ``track`` line names the file; a ``#`` line the
    columns."""
    hits = list(hits)
    largest = max((abs(h.score) for h in hits if h.score is not None), default=0.0) or 1.0
    lines = [
        f'track name="top hits" description="{_header_text(description)}" useScore=1\n',
        "#chrom\tstart\tend\tname\tshade\tstrand\tscore\tpercentile\ttrack\n",
    ]
    for hit in hits:
        shade = 0 if hit.score is None else round(1000 * abs(hit.score) / largest)
        fields = [
            hit.chrom,
            str(hit.start),
            str(hit.end),
            hit.name.translate(_NAME_UNSAFE) or ".",
            str(shade),
            ".",
            "." if hit.score is None else f"{hit.score:.6g}",
            "." if hit.percentile is None else f"{hit.percentile:.4g}",
            hit.track.translate(_NAME_UNSAFE) or ".",
        ]
        lines.append("\t".join(fields) + "\n")
    return "".join(lines)


@dataclass(frozen=True)
class SessionTrack:
    """A file of the bundle (``path`` relative to the session) and how IGV names and colours it."""

    path: str
    name: str
    color: str = ""  # "r,g,b"


def write_igv_session(
    path: Path, *, genome: str, locus: str, tracks: Sequence[SessionTrack]
) -> Path:
    """An IGV desktop session: ``genome`` is an IGV genome id (sacCer3, hg38) or a FASTA path
    relative to the session; each track a ``Resource`` marked ``relativePath`` (IGV resolves it
    against the session file's folder). Every text is XML-escaped by ElementTree."""
    session = ET.Element("Session", genome=genome, locus=locus, version="8")
    resources = ET.SubElement(session, "Resources")
    for track in tracks:
        attributes = {"path": track.path, "name": track.name, "relativePath": "true"}
        if track.color:
            attributes["color"] = track.color
        ET.SubElement(resources, "Resource", attributes)
    ET.indent(session)
    text = ET.tostring(session, encoding="unicode")
    return _write(path, '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + text + "\n")


def _header_text(text: str) -> str:
    return text.replace('"', "'").translate(_NAME_UNSAFE)


def _write(path: Path, text: str) -> Path:
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    replace_durably(temporary, path)
    return path
