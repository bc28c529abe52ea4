"""What the design page shows: edits, the diff and the coordinate map as rows of plain values.

Everything here turns 0-based window coordinates into the 1-based positions people read:
reference positions as genome positions (``II:278,905``), edited positions as positions in the
edited sequence (1 = its first base).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.designs.edits import (
    EQUAL,
    INSERTION,
    Edit,
    Segment,
    describe_position,
    edited_position,
    reference_position,
)
from engine.io.intervals import Interval
from genomeweb.designs.models import Changes

FLANK = 10  # unchanged bases shown on each side of a change
LONGEST_SHOWN = 60  # longer stretches of bases are shown by their ends


def abbreviate(bases: str, longest: int = LONGEST_SHOWN) -> str:
    """Bases to show; a long stretch keeps its ends: ``ACGT…(1,200 bp)…TTGA``."""
    if len(bases) <= longest:
        return bases
    end = longest // 2
    return f"{bases[:end]}…({len(bases):,} bp)…{bases[-end:]}"


def reference_span(window: Interval, start: int, end: int) -> str:
    """A window span as genome positions: ``II:1,235`` or ``II:1,235-1,240``."""
    first = describe_position(window, start)
    return first if end - start == 1 else f"{first}-{window.start + end:,}"


def edited_span(start: int, end: int) -> str:
    return f"{start + 1:,}" if end - start == 1 else f"{start + 1:,}-{end:,}"


def edit_where(edit: Edit, window: Interval) -> str:
    if edit.kind == INSERTION:
        return f"before {describe_position(window, edit.start)}"
    return reference_span(window, edit.start, edit.end)


def edit_rows(edits: Sequence[Edit], window: Interval) -> list[dict]:
    return [
        {
            "index": index,
            "kind": edit.kind,
            "where": edit_where(edit, window),
            "bases": abbreviate(edit.sequence),
            "removed": edit.end - edit.start,
            "change": edit.length_change,
            "label": edit.label,
        }
        for index, edit in enumerate(edits)
    ]


def diff_rows(segments: Sequence[Segment], window: Interval) -> list[dict]:
    """One row per segment; a change is shown with ``FLANK`` unchanged bases either side."""
    reference = "".join(s.reference for s in segments)
    edited = "".join(s.edited for s in segments)
    rows = []
    for segment in segments:
        row = {
            "kind": segment.kind,
            "label": segment.label,
            "reference_at": _reference_at(segment, window),
            "edited_at": _edited_at(segment),
            "length": max(len(segment.reference), len(segment.edited)),
        }
        if segment.kind != EQUAL:
            row["reference"], row["edited"] = _aligned(reference, edited, segment)
        rows.append(row)
    return rows


def _aligned(reference: str, edited: str, segment: Segment) -> tuple[dict, dict]:
    """Both sides of a change in context; a short change is padded with '-' so the flanks
    line up, as in an alignment."""
    ref_side = _in_context(reference, segment.ref_start, segment.ref_end)
    edited_side = _in_context(edited, segment.edited_start, segment.edited_end)
    width = max(len(segment.reference), len(segment.edited))
    if width <= LONGEST_SHOWN:
        ref_side["changed"] = ref_side["changed"].ljust(width, "-")
        edited_side["changed"] = edited_side["changed"].ljust(width, "-")
    return ref_side, edited_side


def _in_context(sequence: str, start: int, end: int) -> dict:
    return {
        "before": sequence[max(0, start - FLANK) : start].rjust(FLANK),  # flanks line up
        "changed": abbreviate(sequence[start:end]),
        "after": sequence[end : end + FLANK],
    }


def _reference_at(segment: Segment, window: Interval) -> str:
    if segment.ref_start == segment.ref_end:  # an insertion
        return f"before {describe_position(window, segment.ref_start)}"
    return reference_span(window, segment.ref_start, segment.ref_end)


def _edited_at(segment: Segment) -> str:
    if segment.edited_start == segment.edited_end:  # a deletion
        return f"before {segment.edited_start + 1:,}"
    return edited_span(segment.edited_start, segment.edited_end)


def mapping_rows(segments: Sequence[Segment], window: Interval) -> list[dict]:
    """How each stretch of the edited sequence maps to the reference, with the shift."""
    rows = []
    for segment in segments:
        has_edited = segment.edited_end > segment.edited_start
        has_reference = segment.ref_end > segment.ref_start
        rows.append(
            {
                "kind": segment.kind,
                "label": segment.label,
                "edited": edited_span(segment.edited_start, segment.edited_end)
                if has_edited
                else None,
                "reference": reference_span(window, segment.ref_start, segment.ref_end)
                if has_reference
                else None,
                "positional": segment.is_positional,
                "shift": segment.edited_start - segment.ref_start,
            }
        )
    return rows


def look_up_edited(segments: Sequence[Segment], window: Interval, text: str) -> str:
    """A sentence about a 1-based edited position: its reference position, or why none."""
    try:
        position = int(text.replace(",", "").strip()) - 1
    except ValueError:
        return f"'{text}' is not a position: type a number like 4,112."
    edited_length = sum(len(s.edited) for s in segments)
    if not 0 <= position < edited_length:
        return (
            f"Edited position {position + 1:,} is outside the edited sequence "
            f"(1-{edited_length:,})."
        )
    ref_pos = reference_position(segments, position)
    if ref_pos is None:
        return (
            f"Edited position {position + 1:,} is a new base (inserted or replaced): "
            "it is not in the reference."
        )
    return f"Edited position {position + 1:,} = reference {describe_position(window, ref_pos)}."


def look_up_reference(segments: Sequence[Segment], window: Interval, text: str) -> str:
    """A sentence about a 1-based genome position (``278,905`` or ``II:278,905``)."""
    number = text.rpartition(":")[2].replace(",", "").strip()
    try:
        ref_pos = int(number) - 1 - window.start
    except ValueError:
        return f"'{text}' is not a position: type a number like 278,905."
    where = describe_position(window, ref_pos)
    if not 0 <= ref_pos < len(window):
        whole = reference_span(window, 0, len(window))
        return f"Reference {where} is outside the design window {whole}."
    pos = edited_position(segments, ref_pos)
    if pos is None:
        return f"Reference {where} was deleted or replaced: it has no edited position."
    return f"Reference {where} = edited position {pos + 1:,}."


def change_rows(changes: Changes, window: Interval) -> dict:
    return {
        "added": edit_rows(changes.added, window),
        "removed": edit_rows(changes.removed, window),
    }
