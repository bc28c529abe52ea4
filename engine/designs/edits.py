"""Sequence edits on a reference window, and how edited positions map back to the reference.

Framework-free (no Django), so the rules can be tested on plain strings. Every coordinate here
is 0-based half-open and relative to the design window: position 0 is the window's first
reference base. Messages for people give 1-based genome positions (``II:1,235``), worked out
from the window passed to ``validate_edits``.

An edit replaces the reference bases ``[start, end)`` with ``sequence``:

- substitution: same number of new bases (``start < end``, ``len(sequence) == end - start``)
- insertion: new bases before reference base ``start`` (``start == end``)
- deletion: no new bases (``start < end``)
- replacement: any non-empty new bases for a non-empty span (e.g. a pasted sequence)

Edits may not overlap, so the edited sequence does not depend on the order they were made in.
An insertion may touch a deletion or substitution (it goes before or after it), but two
insertions at the same position, or an insertion inside another edit's span, are ambiguous.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from engine.io.intervals import Interval

SUBSTITUTION = "substitution"
INSERTION = "insertion"
DELETION = "deletion"
REPLACEMENT = "replacement"
KINDS = (SUBSTITUTION, INSERTION, DELETION, REPLACEMENT)
BASES = frozenset("ACGTN")

# Diff segment kinds, one per edit kind plus the unchanged stretches between edits.
EQUAL = "equal"
SEGMENT_KINDS = {
    SUBSTITUTION: "substituted",
    INSERTION: "inserted",
    DELETION: "deleted",
    REPLACEMENT: "replaced",
}


@dataclass(frozen=True)
class Edit:
    """One change to the reference window; see the module docstring for the rules."""

    kind: str
    start: int
    end: int
    sequence: str = ""
    label: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Edit:
        return cls(
            kind=data["kind"],
            start=int(data["start"]),
            end=int(data["end"]),
            sequence=data.get("sequence", ""),
            label=data.get("label", ""),
        )

    @property
    def length_change(self) -> int:
        """Bases gained (positive) or lost (negative) by this edit."""
        return len(self.sequence) - (self.end - self.start)


@dataclass(frozen=True)
class Segment:
    """A stretch of the alignment of the edited sequence to the reference.

    ``ref_start``/``ref_end`` are window positions, ``edited_start``/``edited_end`` positions in
    the edited sequence; an inserted segment has an empty reference span, a deleted one an
    empty edited span.
    """

    kind: str
    ref_start: int
    ref_end: int
    edited_start: int
    edited_end: int
    reference: str
    edited: str
    label: str = ""

    @property
    def is_positional(self) -> bool:
        """Whether base i of the edited span stands at base i of the reference span.

        True for unchanged and substituted bases, and for a replacement that keeps the
        length; an insertion's or a length-changing replacement's bases have no reference
        position.
        """
        return self.ref_end - self.ref_start == self.edited_end - self.edited_start


def describe_position(window: Interval, pos: int) -> str:
    """A window position as a 1-based genome position, e.g. ``II:1,235``."""
    if not window.chrom:
        return f"position {pos + 1:,}"
    return f"{window.chrom}:{window.start + pos + 1:,}"


def describe_edit(edit: Edit, window: Interval) -> str:
    """Where an edit is, in words a biologist can find in a genome browser."""
    if edit.kind == INSERTION:
        return f"the insertion before {describe_position(window, edit.start)}"
    first = describe_position(window, edit.start)
    if edit.end - edit.start <= 1:
        return f"the {edit.kind} at {first}"
    return f"the {edit.kind} at {first}-{window.start + edit.end:,}"


def validate_edits(edits: Iterable[Edit], window: Interval) -> list[Edit]:
    """Check edits against a reference window and return them sorted by position.

    Args:
        edits: the edits, in any order.
        window: the reference window (genome coordinates); only its chrom and start are used
            for messages, its length bounds the edits.

    Returns:
        The edits sorted by (start, end): an insertion comes before a deletion starting at the
        same base, which is where it is applied.

    Raises:
        ValueError: the first problem found, in a sentence with 1-based genome positions.
    """
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for edit in ordered:
        _check_edit(edit, window)
    for before, after in zip(ordered, ordered[1:], strict=False):
        _check_pair(before, after, window)
    return ordered


def _check_edit(edit: Edit, window: Interval) -> None:
    if edit.kind not in KINDS:
        raise ValueError(
            f"'{edit.kind}' is not a kind of edit: use substitution, insertion, deletion or "
            "replacement."
        )
    where = describe_edit(edit, window)
    if edit.end < edit.start:
        raise ValueError(f"{_capital(where)} ends before it starts.")
    if edit.start < 0 or edit.end > len(window):
        raise ValueError(
            f"{_capital(where)} is outside the design window "
            f"{describe_position(window, 0)}-{window.end:,}; edits must lie inside it."
        )
    _check_shape(edit, where)
    check_bases(edit.sequence, f"the new bases of {where}")


def _check_shape(edit: Edit, where: str) -> None:
    span = edit.end - edit.start
    if edit.kind == INSERTION and span:
        raise ValueError(
            f"An insertion goes between two bases, so its start and end are equal; "
            f"{where} spans {span} bases."
        )
    if edit.kind != INSERTION and not span:
        raise ValueError(f"{_capital(where)} covers no reference base.")
    if edit.kind == DELETION and edit.sequence:
        raise ValueError(
            f"{_capital(where)} has new bases; a deletion only removes bases "
            "(use a replacement to put other bases in their place)."
        )
    if edit.kind in (INSERTION, REPLACEMENT) and not edit.sequence:
        raise ValueError(f"{_capital(where)} has no new bases.")
    if edit.kind == SUBSTITUTION and len(edit.sequence) != span:
        raise ValueError(
            f"{_capital(where)} replaces {span} base{'s' if span != 1 else ''} with "
            f"{len(edit.sequence)}; a substitution keeps the length "
            "(use an insertion, a deletion or a replacement to change it)."
        )


def _check_pair(before: Edit, after: Edit, window: Interval) -> None:
    """Sorted neighbours must not overlap; an insertion may only touch another edit's ends."""
    if before.kind == INSERTION and after.kind == INSERTION and before.start == after.start:
        raise ValueError(
            f"There are two insertions before {describe_position(window, before.start)}; "
            "their order would be ambiguous, so combine them into one."
        )
    if after.start < before.end:
        raise ValueError(
            f"{_capital(describe_edit(after, window))} overlaps "
            f"{describe_edit(before, window)}; remove one of them first."
        )


def check_bases(sequence: str, what: str) -> None:
    """Raise ValueError naming the first character of ``sequence`` that is not A, C, G, T, N."""
    for index, char in enumerate(sequence):
        if char not in BASES:
            raise ValueError(
                f"{_capital(what)} contain {char!r} at base {index + 1:,}; "
                "only A, C, G, T and N are allowed."
            )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def apply_edits(reference: str, edits: Iterable[Edit]) -> str:
    """The edited sequence: ``reference`` with every edit applied.

    Raises:
        ValueError: the edits are invalid for a window of ``len(reference)`` bases.
    """
    pieces = []
    position = 0
    for edit in validate_edits(edits, Interval("", 0, len(reference))):
        pieces.append(reference[position : edit.start])
        pieces.append(edit.sequence)
        position = edit.end
    pieces.append(reference[position:])
    return "".join(pieces)


def diff(reference: str, edits: Iterable[Edit]) -> list[Segment]:
    """The edited sequence aligned to the reference, as consecutive segments.

    Unchanged stretches are ``equal`` segments; each edit is one ``substituted``,
    ``inserted``, ``deleted`` or ``replaced`` segment. Joining the segments' ``edited`` bases
    gives ``apply_edits(reference, edits)``; joining their ``reference`` bases gives
    ``reference``.
    """
    segments: list[Segment] = []
    ref_pos = edited_pos = 0
    for edit in validate_edits(edits, Interval("", 0, len(reference))):
        if edit.start > ref_pos:
            segments.append(_equal(reference, ref_pos, edit.start, edited_pos))
            edited_pos += edit.start - ref_pos
        segments.append(
            Segment(
                kind=SEGMENT_KINDS[edit.kind],
                ref_start=edit.start,
                ref_end=edit.end,
                edited_start=edited_pos,
                edited_end=edited_pos + len(edit.sequence),
                reference=reference[edit.start : edit.end],
                edited=edit.sequence,
                label=edit.label,
            )
        )
        ref_pos, edited_pos = edit.end, edited_pos + len(edit.sequence)
    if ref_pos < len(reference):
        segments.append(_equal(reference, ref_pos, len(reference), edited_pos))
    return segments


def _equal(reference: str, start: int, end: int, edited_start: int) -> Segment:
    bases = reference[start:end]
    return Segment(EQUAL, start, end, edited_start, edited_start + len(bases), bases, bases)


def edited_to_reference(segments: Sequence[Segment]) -> list[int | None]:
    """For each edited position, its reference (window) position, or None for a new base."""
    mapping: list[int | None] = []
    for segment in segments:
        if segment.is_positional:
            mapping.extend(range(segment.ref_start, segment.ref_end))
        else:
            mapping.extend([None] * (segment.edited_end - segment.edited_start))
    return mapping


def reference_to_edited(segments: Sequence[Segment]) -> list[int | None]:
    """For each reference (window) position, its edited position, or None if it was removed."""
    mapping: list[int | None] = []
    for segment in segments:
        if segment.is_positional:
            mapping.extend(range(segment.edited_start, segment.edited_end))
        else:
            mapping.extend([None] * (segment.ref_end - segment.ref_start))
    return mapping


def reference_position(segments: Sequence[Segment], edited_pos: int) -> int | None:
    """The reference position of one edited position (None: a new base, or out of range).

    The same answer as ``edited_to_reference(segments)[edited_pos]`` without building the
    whole list, for windows of half a million bases.
    """
    segment = _find(segments, edited_pos, lambda s: (s.edited_start, s.edited_end))
    if segment is None or not segment.is_positional:
        return None
    return segment.ref_start + edited_pos - segment.edited_start


def edited_position(segments: Sequence[Segment], ref_pos: int) -> int | None:
    """The edited position of one reference position (None: removed, or out of range)."""
    segment = _find(segments, ref_pos, lambda s: (s.ref_start, s.ref_end))
    if segment is None or not segment.is_positional:
        return None
    return segment.edited_start + ref_pos - segment.ref_start


def _find(segments: Sequence[Segment], pos: int, span) -> Segment | None:
    """The segment whose span (by ``span``) holds ``pos``, if any.

    Spans are consecutive, so the last segment starting at or before ``pos`` is the only one
    that can hold it (an empty span starting at ``pos`` is always followed by the one that
    does, which sorts after it).
    """
    index = bisect.bisect_right([span(s)[0] for s in segments], pos) - 1
    if index < 0:
        return None
    start, end = span(segments[index])
    return segments[index] if start <= pos < end else None


def parse_sequence(text: str) -> str:
    """One sequence from pasted FASTA (a single record) or raw bases, uppercased.

    Whitespace and line breaks are dropped; lowercase (soft-masked) bases are accepted.

    Raises:
        ValueError: no bases, more than one record, or a character other than A, C, G, T, N,
            named with its line and column.
    """
    lines = text.splitlines()
    headers = [line.strip()[1:].strip() for line in lines if line.strip().startswith(">")]
    if len(headers) > 1 or (headers and not _lines_before_first_header_are_blank(lines)):
        shown = ", ".join(name or "unnamed" for name in headers[:3])
        raise ValueError(
            f"The paste holds more than one sequence (headers: {shown}); a design is one "
            "sequence, so paste a single FASTA record."
        )
    bases = [
        _clean_line(line, number)
        for number, line in enumerate(lines, start=1)
        if not line.strip().startswith((">", ";"))  # ";": old FASTA comment lines
    ]
    sequence = "".join(bases)
    if not sequence:
        raise ValueError("The paste has no bases: paste one FASTA record or a plain sequence.")
    return sequence


def _lines_before_first_header_are_blank(lines: list[str]) -> bool:
    """Bases before a header would be a second, unnamed record."""
    for line in lines:
        if line.strip().startswith(">"):
            return True
        if line.strip() and not line.strip().startswith(";"):
            return False
    return True


def _clean_line(line: str, line_number: int) -> str:
    kept = []
    for column, char in enumerate(line, start=1):
        if char.isspace():
            continue
        base = char.upper()
        if base not in BASES:
            raise ValueError(
                f"Line {line_number}, column {column} has {char!r}, which is not a base; "
                "only A, C, G, T and N (any case) are allowed."
            )
        kept.append(base)
    return "".join(kept)


def edits_for_paste(reference: str, pasted: str, label: str = "pasted sequence") -> list[Edit]:
    """The edit list that turns ``reference`` into ``pasted``: one edit, or none if equal.

    The bases both share at their ends are left out of the edit, so that unchanged flanks still
    map to their reference positions and the stored edit stays small. What differs becomes an
    insertion, a deletion or a replacement.
    """
    prefix = _common_prefix(reference, pasted)
    longest_suffix = min(len(reference), len(pasted)) - prefix
    suffix = _common_prefix(reference[::-1], pasted[::-1], limit=longest_suffix)
    ref_end, pasted_end = len(reference) - suffix, len(pasted) - suffix
    new_bases = pasted[prefix:pasted_end]
    if prefix == ref_end and not new_bases:
        return []
    if prefix == ref_end:
        kind = INSERTION
    elif not new_bases:
        kind = DELETION
    else:
        kind = REPLACEMENT
    return [Edit(kind, prefix, ref_end, new_bases, label)]


def _common_prefix(a: str, b: str, limit: int | None = None) -> int:
    """Length of the common prefix, comparing in blocks: pastes can be 500 kb long."""
    limit = min(len(a), len(b)) if limit is None else limit
    low, high = 0, limit
    while low < high:  # binary search on "a[:n] == b[:n]", C-speed slice comparisons
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
