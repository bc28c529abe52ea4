"""Transcription factor motifs from JASPAR, read from the SQLite release pyjaspar ships.

Nothing is fetched from the network: pyjaspar bundles each JASPAR release as a file inside the
package. Only the CORE collection (curated, non-redundant profiles) is searched, latest version
of each matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.interpret.motifs import JASPAR_RELEASE

MAX_MOTIFS = 20
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")

# pyjaspar matches names exactly (fetch_motifs_by_name); search as you type needs a prefix match,
# so the names are looked up in its database directly and the motifs then fetched by id.
# A name like "Ahr::Arnt" (a dimer) is found by either partner.
_SEARCH_SQL = """
    SELECT m.BASE_ID, MAX(m.VERSION) FROM MATRIX m
    WHERE m.COLLECTION = 'CORE'
      AND (m.NAME LIKE :prefix ESCAPE '\\' OR m.NAME LIKE :partner ESCAPE '\\'
           OR m.BASE_ID LIKE :prefix ESCAPE '\\')
    GROUP BY m.BASE_ID
    ORDER BY UPPER(MAX(m.NAME)) = UPPER(:exact) DESC,
             MAX(m.NAME) LIKE :prefix ESCAPE '\\' DESC, UPPER(MAX(m.NAME)), m.BASE_ID
    LIMIT :limit
"""


@dataclass(frozen=True)
class Motif:
    matrix_id: str
    name: str
    tax_group: str
    consensus: str

    @property
    def label(self) -> str:
        """How an edit made from this motif is labelled, e.g. ``GAL4 (MA0299.1)``."""
        return f"{self.name} ({self.matrix_id})"

    @property
    def reverse_complement(self) -> str:
        return self.consensus.translate(_COMPLEMENT)[::-1]


def consensus(counts: Mapping[str, Sequence[float]]) -> str:
    """The most frequent base of each column of a position frequency matrix.

    Ties go to the first base in A, C, G, T order, so the answer never depends on dict order.

    Args:
        counts: ``{"A": [...], "C": [...], "G": [...], "T": [...]}``, one value per column.
    """
    columns = zip(*(counts[base] for base in "ACGT"), strict=True)
    return "".join("ACGT"[max(range(4), key=lambda i, c=column: (c[i], -i))] for column in columns)


def search_motifs(query: str, *, limit: int = MAX_MOTIFS) -> list[Motif]:
    """CORE motifs whose TF name (or matrix id) starts with ``query``, exact names first."""
    query = query.strip()
    if not query:
        return []
    from pyjaspar import jaspardb  # Biopython and a 16 MB database: only when asked

    database = jaspardb(release=JASPAR_RELEASE)
    try:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = database.conn.execute(
            _SEARCH_SQL,
            {"prefix": f"{escaped}%", "partner": f"%::{escaped}%", "exact": query, "limit": limit},
        ).fetchall()
        return [_motif(database.fetch_motif_by_id(f"{base}.{version}")) for base, version in rows]
    finally:
        database.conn.close()


def _motif(record) -> Motif:
    return Motif(
        matrix_id=record.matrix_id,
        name=record.name,
        tax_group=record.tax_group or "",
        consensus=consensus({base: list(record.counts[base]) for base in "ACGT"}),
    )
