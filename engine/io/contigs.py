"""Contig name aliases: users write chrI, I, chr1, 1, chrM or MT for the same sequence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

_MITO = ("chrM", "MT", "M", "chrMT", "Mito", "mito")


def spellings(name: str) -> set[str]:
    """Common alternative spellings of a contig name, the name itself included."""
    bare = name[3:] if name.lower().startswith("chr") else name
    found = {name, bare, f"chr{bare}"}
    if name in _MITO:
        found.update(_MITO)
    return found


class ContigResolver:
    """Maps any accepted spelling of a contig to the genome's own name.

    Args:
        names: the genome's contig names, as in its FASTA.
        aliases: extra spellings the genome declares, ``{alias: genome_name}``.
    """

    def __init__(self, names: Iterable[str], aliases: Mapping[str, str] | None = None) -> None:
        self.names = list(names)
        self._lookup: dict[str, str] = {}
        for name in self.names:
            for spelling in spellings(name):
                self._lookup.setdefault(spelling, name)
        for alias, name in (aliases or {}).items():
            self._lookup[alias] = name
        for name in self.names:  # a genome's own names always win over derived spellings
            self._lookup[name] = name

    def resolve(self, name: str) -> str | None:
        """The genome's name for ``name``, or None when the genome has no such contig."""
        return self._lookup.get(name)
