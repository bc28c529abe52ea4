"""Figures of interpretation results.

The attention heatmap for the result page is SVG written by hand: exact, small, token × token
with genomic coordinates on both axes and the genes of the window as bars along them. Each
heatmap row is a ``<g data-row="i">`` so the result page can make rows clickable (the linked
igv.js view).

Paper figures (``ism_figure``, ``attention_png``) are drawn with matplotlib in the worker: the
object-oriented API on an Agg canvas, no pyplot and so no global figure registry. matplotlib is
imported inside the drawing functions so importing this module stays light. The output is
byte-reproducible (fixed SVG hash salt, no dates) because result bundles are cached by content
hash.
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from html import escape
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from engine.interpret.ism_rules import BASES, mean_substitution_effect
from engine.io.annotation import Gene
from engine.io.intervals import Interval

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.path import Path

SIZE = 480  # px, the heatmap's side
LEFT, TOP, RIGHT, BOTTOM = 156, 92, 120, 44  # px around the heatmap: labels, genes, colour scale
MAX_CELLS = 128  # per side: larger maps are averaged into blocks
GENE_COLOR = "#1f6feb"
LEGEND_STEPS = 24  # bands of the colour scale (no gradient: two SVGs on a page share no ids)
LEGEND_HEIGHT = 240  # px
FAINT = 0.01  # cells below this fraction of the largest are not drawn (left white)


def attention_svg(weights: np.ndarray, window: Interval, genes: Sequence[Gene], title: str) -> str:
    """``weights`` (N, N) as an SVG heatmap (white → dark blue, scaled to the largest weight
    after block-averaging), with its colour scale, genomic axes and the window's genes.

    Every text is escaped. Rows (query tokens) are ``<g class="row">`` groups with an accessible
    name and a ``<title>``; the first is in the tab order (``tabindex="0"``), the others are
    reached from it with the arrow keys (``tabindex="-1"``: the result page moves focus)."""
    cells, block = _blocks(weights)
    top = float(cells.max()) or 1.0
    token_bp = len(window) // len(weights)
    width, height = LEFT + SIZE + RIGHT, TOP + SIZE + BOTTOM
    label = f"{title}: attention heatmap, rows are query tokens, columns the tokens they attend to"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="11" '
        f'role="group" aria-label="{escape(label)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="16" font-size="13">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{SIZE}" height="{SIZE}" fill="white" stroke="#999"/>',
        *_rows(cells, block, top, window, token_bp),
        *_axes(window),
        *_gene_bars(window, genes),
        *_colour_scale(top, block),
        f'<text x="{LEFT + SIZE / 2}" y="{TOP + SIZE + 32}" text-anchor="middle">'
        "keys: the tokens attended to →</text>",
        f'<text x="16" y="{TOP + SIZE / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + SIZE / 2})">← queries: the tokens attending</text>',
        "</svg>",
    ]
    return "".join(parts)


def _rows(cells: np.ndarray, block: int, top: float, window: Interval, token_bp: int) -> list[str]:
    n = len(cells)
    step = SIZE / n
    rows = []
    for i in range(n):
        y = TOP + i * step
        rects = "".join(
            f'<rect x="{LEFT + j * step:.2f}" y="{y:.2f}" width="{step + 0.05:.2f}"'
            f' height="{step + 0.05:.2f}" fill="{_blue(cells[i, j] / top)}"/>'
            for j in range(n)
            if cells[i, j] > top * FAINT  # near-white cells add size, not information
        )
        start = window.start + i * block * token_bp
        strongest = int(cells[i].argmax())
        key_start = window.start + strongest * block * token_bp
        name = escape(
            f"Queries {_span(window.chrom, start, block * token_bp)}: strongest attention "
            f"{cells[i, strongest]:.3g} to {_span(window.chrom, key_start, block * token_bp)}"
        )
        rows.append(
            f'<g class="row" data-row="{i * block}" data-start="{start}" '
            f'tabindex="{0 if i == 0 else -1}" aria-label="{name}"><title>{name}</title>{rects}'
            f'<rect class="hit" x="{LEFT}" y="{y:.2f}" width="{SIZE}"'
            f' height="{step:.2f}" fill="transparent"/></g>'
        )
    return rows


def _span(chrom: str, start: int, length: int) -> str:
    """1-based, inclusive, as the page and genome browsers show positions."""
    return f"{chrom}:{max(start, 0) + 1:,}-{start + length:,}"


def _blocks(weights: np.ndarray) -> tuple[np.ndarray, int]:
    n = len(weights)
    block = max(1, -(-n // MAX_CELLS))
    cut = n // block * block
    trimmed = weights[:cut, :cut]
    return trimmed.reshape(cut // block, block, cut // block, block).mean(axis=(1, 3)), block


def _blue(fraction: float) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    red, green, blue = (int(255 - (255 - c) * fraction) for c in (8, 48, 107))
    return f"rgb({red},{green},{blue})"


def _axes(window: Interval) -> list[str]:
    """Five ticks along each axis, in kb of the contig, outside the gene bars."""
    marks = []
    for k in range(5):
        fraction = k / 4
        label = escape(f"{(window.start + fraction * len(window)) / 1000:,.1f} kb")
        offset = fraction * SIZE
        anchor = ("start", "middle", "middle", "middle", "end")[k]  # the ends stay inside
        marks.append(
            f'<line x1="{LEFT + offset:.1f}" x2="{LEFT + offset:.1f}" y1="{TOP}" y2="{TOP - 4}" '
            'stroke="#999"/>'
            f'<text x="{LEFT + offset:.1f}" y="{TOP - 50}" text-anchor="{anchor}">{label}</text>'
            f'<line x1="{LEFT}" x2="{LEFT - 4}" y1="{TOP + offset:.1f}" y2="{TOP + offset:.1f}" '
            'stroke="#999"/>'
            f'<text x="{LEFT - 46}" y="{TOP + offset + 4:.1f}" text-anchor="end">{label}</text>'
        )
    return marks


def _gene_bars(window: Interval, genes: Sequence[Gene]) -> list[str]:
    """Each gene as a bar along the top and the left axis, named beside it (names alternate
    between two lanes so neighbours do not overwrite each other) and in its ``<title>``."""
    bars = []
    shown = [
        gene
        for gene in sorted(genes, key=lambda g: (g.start, g.end))
        if gene.chrom == window.chrom and max(gene.start, window.start) < min(gene.end, window.end)
    ]
    for lane, gene in enumerate(shown):
        first, last = max(gene.start, window.start), min(gene.end, window.end)
        offset = (first - window.start) / len(window) * SIZE
        length = max((last - first) / len(window) * SIZE, 1.5)
        centre = min(max(offset + length / 2, 20), SIZE - 20)
        arrow = "→" if gene.strand == "+" else "←" if gene.strand == "-" else ""
        name = escape(f"{gene.name or gene.gene_id} {arrow}".strip())
        full = escape(
            f"{gene.name or gene.gene_id} ({gene.gene_id}), {gene.strand or 'no'} strand, "
            f"{Interval(gene.chrom, gene.start, gene.end).readable()}"
        )
        lift = 12 * (lane % 2)
        bars.append(
            f'<g class="gene" role="img" aria-label="{full}"><title>{full}</title>'
            f'<rect x="{LEFT + offset:.1f}" y="{TOP - 12}" width="{length:.1f}" height="6" '
            f'fill="{GENE_COLOR}"/>'
            f'<text x="{LEFT + centre:.1f}" y="{TOP - 17 - lift}" text-anchor="middle" '
            f'font-size="10">{name}</text>'
            f'<rect x="{LEFT - 12}" y="{TOP + offset:.1f}" width="6" height="{length:.1f}" '
            f'fill="{GENE_COLOR}"/>'
            f'<text x="{LEFT - 17 - lift}" y="{TOP + centre:.1f}" text-anchor="middle" '
            f'font-size="10" transform="rotate(-90 {LEFT - 17 - lift} {TOP + centre:.1f})">'
            f"{name}</text></g>"
        )
    return bars


def _colour_scale(top: float, block: int) -> list[str]:
    """The colour bar right of the heatmap: white (0) to dark blue (``top``), labelled."""
    x, band = LEFT + SIZE + 22, LEGEND_HEIGHT / LEGEND_STEPS
    what = f"mean of {block} × {block} tokens" if block > 1 else "per token pair"
    parts = [
        f'<g class="legend" role="img" aria-label="Colour scale: attention weight from 0 (white) '
        f'to {top:.3g} (dark blue), {what}">',
        f'<text x="{x}" y="{TOP - 20}" font-size="11">Attention</text>',
        f'<text x="{x}" y="{TOP - 7}" font-size="11">weight</text>',
    ]
    for k in range(LEGEND_STEPS):  # the top band is the largest weight
        fraction = 1 - (k + 0.5) / LEGEND_STEPS
        parts.append(
            f'<rect x="{x}" y="{TOP + k * band:.2f}" width="16" height="{band + 0.05:.2f}" '
            f'fill="{_blue(fraction)}"/>'
        )
    parts.append(
        f'<rect x="{x}" y="{TOP}" width="16" height="{LEGEND_HEIGHT}" fill="none" stroke="#999"/>'
    )
    for fraction in (1.0, 0.5, 0.0):
        y = TOP + (1 - fraction) * LEGEND_HEIGHT
        parts.append(
            f'<line x1="{x + 16}" x2="{x + 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#999"/>'
            f'<text x="{x + 23}" y="{y + 4:.1f}">{top * fraction:.3g}</text>'
        )
    notes = ["block means of", f"{block} × {block} tokens"] if block > 1 else []
    notes += [f"under {top * FAINT:.2g}:", "left white"]
    for k, note in enumerate(notes):
        parts.append(
            f'<text x="{x}" y="{TOP + LEGEND_HEIGHT + 18 + 13 * k}" font-size="10" '
            f'fill="#555">{escape(note)}</text>'
        )
    parts.append("</g>")
    return parts


# --- Paper figures (matplotlib) -------------------------------------------------------------

DPI = 200
BASE_COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}
UNKNOWN_COLOR = "#9a9a9a"  # an N in the reference: no base to credit
FONT = "DejaVu Sans"  # ships with matplotlib, so every worker renders the same glyphs
MAX_SHOWN_BP = 400  # longer ISM regions show their strongest stretch: letters stay legible
BP_INCHES = 0.055  # per position: about 11 px at 200 dpi, readable letters at 192 bp
MIN_PLOT_INCHES = 3.0
LETTER_WIDTH = 0.9  # of a position, so neighbouring letters don't touch
LABEL_POINTS = 7  # motif and gene labels
ISM_LEFT_INCHES, ISM_RIGHT_INCHES = 0.9, 1.3  # room for the y labels and the colourbar
TITLE_CHARS_PER_INCH = 13  # 10 pt DejaVu Sans, a little under its mean advance
TITLE_LINE_INCHES = 0.18
TRACK_ROW_INCHES = 0.22  # one row of stacked motif or gene labels
LABEL_GAP_POINTS = 4  # between labels that share a row

# Fixed so identical inputs give identical bytes; text stays text in the SVG (editable).
PAPER_RC = {
    "svg.hashsalt": "genomeweb-figures",
    "svg.fonttype": "none",
    "font.family": FONT,
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.linewidth": 0.6,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
}
# rc_context swaps the process-wide rcParams: one figure at a time per process.
_STYLE_LOCK = threading.Lock()


class Motif(Protocol):
    """A motif hit: ``[start, end)`` 0-based on the figure's contig, strand '+' or '-'."""

    start: int
    end: int
    strand: str
    label: str


class LetterBox(NamedTuple):
    """A logo letter centred on position ``x``, spanning ``bottom`` to ``bottom + height``."""

    base: str
    x: int
    bottom: float
    height: float


class TrackFeature(NamedTuple):
    """A bar ``[start, end)`` and its label ``[text_start, text_end)``, in data units."""

    start: float
    end: float
    text: str
    text_start: float
    text_end: float


def ism_figure(
    effects: np.ndarray,
    reference: str,
    region: Interval,
    title: str,
    motifs: Sequence[Motif] = (),
) -> tuple[str, bytes]:
    """A paper figure of in-silico mutagenesis: a logo of each reference base's importance over
    a heatmap of every substitution's effect, on genomic (1-based) coordinates.

    Args:
        effects: (L, 4) objective(alt) − objective(ref), columns A, C, G, T.
        reference: the L reference bases, upper case, N allowed.
        region: the L bp the effects cover.
        title: the figure's title; a note is added when only a stretch is shown.
        motifs: hits drawn as labelled bars over the logo; those outside the shown stretch are
            skipped, the others clipped to it.

    Returns:
        (SVG text, PNG bytes at 200 dpi), byte-identical for identical inputs.
    """
    effects = np.asarray(effects, dtype=np.float64)
    _check_ism_inputs(effects, reference, region)
    first, last = _strongest_stretch(effects, MAX_SHOWN_BP)
    shown = Interval(region.chrom, region.start + first, region.start + last)
    if len(shown) < len(region):
        title = f"{title} (strongest {len(shown):,} of {len(region):,} bp)"
    effects, reference = effects[first:last], reference[first:last].upper()
    plot_inches = _plot_inches(len(shown))
    features = _motif_features(motifs, shown, len(shown) / plot_inches)
    rows = _stack_rows(features)
    title_lines = _wrap(title, ISM_LEFT_INCHES + plot_inches + ISM_RIGHT_INCHES)
    with _paper_figure() as figure:
        logo, heat, colorbar, track = _ism_axes(
            figure, plot_inches, _row_count(rows), len(title_lines)
        )
        _draw_logo(logo, _letter_boxes(_logo_heights(effects, reference), reference))
        _draw_effects(heat, colorbar, effects, reference)
        _draw_genomic_axis(heat, shown, plot_inches)
        if track is not None:
            _draw_track(track, features, rows)
        figure.text(
            0.6 / figure.get_figwidth(),
            1 - 0.1 / figure.get_figheight(),
            "\n".join(title_lines),
            fontsize=10,
            va="top",
        )
        return _svg_text(figure), _png_bytes(figure)


def attention_png(
    weights: np.ndarray, window: Interval, genes: Sequence[Gene], title: str
) -> bytes:
    """``weights`` (N, N) as a paper figure: the heatmap of ``attention_svg`` (same blocks,
    white → dark blue scaled to the largest block) with kb ticks, gene bars and a colourbar.

    Args:
        weights: (N, N) attention of query tokens (rows) to key tokens (columns).
        window: the bp the N tokens cover.
        genes: drawn as named bars along the top and left; those off the window are skipped.
        title: the figure's title.

    Returns:
        PNG bytes at 200 dpi, byte-identical for identical inputs.
    """
    cells, block = _blocks(weights)
    covered_bp = len(window) * len(cells) * block // len(weights)
    covered = Interval(window.chrom, window.start, window.start + covered_bp)
    side = 4.5  # inches
    features = _gene_features(genes, covered, len(covered) / side)
    rows = _stack_rows(features)
    with _paper_figure() as figure:
        heat, colorbar, top, left = _attention_axes(figure, side, _row_count(rows))
        image = heat.imshow(
            cells,
            cmap="Blues",
            vmin=0,
            vmax=cells.max() or 1.0,
            interpolation="nearest",
            extent=(covered.start, covered.end, covered.end, covered.start),
        )
        figure.colorbar(image, cax=colorbar, label="attention weight (block mean)")
        _draw_kb_axes(heat, covered.chrom, left_track_inches=_row_count(rows) * TRACK_ROW_INCHES)
        if top is not None and left is not None:
            _draw_track(top, features, rows)
            _draw_track(left, features, rows, vertical=True)
        figure.suptitle(title, fontsize=10, y=1 - 0.1 / figure.get_figheight(), va="top")
        return _png_bytes(figure)


def _check_ism_inputs(effects: np.ndarray, reference: str, region: Interval) -> None:
    if effects.ndim != 2 or effects.shape[1] != 4 or not len(effects):
        raise ValueError(f"effects must be (L, 4) with L > 0, got {effects.shape}")
    if not len(effects) == len(reference) == len(region):
        raise ValueError(
            f"effects cover {len(effects)} bp, the reference {len(reference)}, "
            f"the region {len(region)}"
        )


def _strongest_stretch(effects: np.ndarray, width: int) -> tuple[int, int]:
    """``[first, last)`` of the ``width`` positions with the largest sum of |effects| (the
    whole range when it is no longer; the leftmost stretch on ties)."""
    length = len(effects)
    if length <= width:
        return 0, length
    totals = np.concatenate([[0.0], np.cumsum(np.abs(effects).sum(axis=1))])
    first = int(np.argmax(totals[width:] - totals[:-width]))
    return first, first + width


def _logo_heights(effects: np.ndarray, reference: str) -> np.ndarray:
    """(L,) importance of each reference base (see ``mean_substitution_effect``)."""
    return -mean_substitution_effect(effects, reference)


def _letter_boxes(heights: np.ndarray, reference: str) -> list[LetterBox]:
    """A letter per non-zero height: above the zero line for positive importance, below for
    negative. Anything but A, C, G, T is drawn as a (grey) N."""
    boxes = []
    for x, (height, base) in enumerate(zip(heights, reference.upper(), strict=True)):
        if height != 0:
            letter = base if base in BASES else "N"
            boxes.append(LetterBox(letter, x, min(float(height), 0.0), abs(float(height))))
    return boxes


def _plot_inches(positions: int) -> float:
    return max(positions * BP_INCHES, MIN_PLOT_INCHES)


def _text_span(text: str, units_per_inch: float) -> float:
    """Width of ``text`` at the label size, in data units (measured on the glyph outlines)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    path = TextPath((0, 0), text, size=LABEL_POINTS, prop=FontProperties(family=FONT))
    return path.get_extents().width / 72 * units_per_inch


def _place_label(
    start: float, end: float, text: str, limit: float, units_per_inch: float
) -> TrackFeature:
    """The label starts with its bar, shifted left where it would run past ``limit``. Its end
    includes a gap, so labels that share a row don't touch."""
    span = _text_span(text, units_per_inch)
    text_start = min(start, limit - span)
    gap = LABEL_GAP_POINTS / 72 * units_per_inch
    return TrackFeature(start, end, text, text_start, text_start + span + gap)


def _motif_features(
    motifs: Sequence[Motif], shown: Interval, units_per_inch: float
) -> list[TrackFeature]:
    """Motifs clipped to ``shown``, in position units (position i spans i − ½ to i + ½)."""
    features = []
    for motif in motifs:
        first, last = max(motif.start, shown.start), min(motif.end, shown.end)
        if first < last:
            arrow = "←" if motif.strand == "-" else "→"
            start, end = first - shown.start - 0.5, last - shown.start - 0.5
            label = f"{motif.label} {arrow}"
            features.append(_place_label(start, end, label, len(shown) - 0.5, units_per_inch))
    return features


def _gene_features(
    genes: Sequence[Gene], window: Interval, units_per_inch: float
) -> list[TrackFeature]:
    """Genes clipped to ``window``, in contig bp."""
    features = []
    for gene in genes:
        first, last = max(gene.start, window.start), min(gene.end, window.end)
        if gene.chrom == window.chrom and first < last:
            arrow = "←" if gene.strand == "-" else "→"
            label = f"{gene.name or gene.gene_id} {arrow}"
            features.append(_place_label(first, last, label, window.end, units_per_inch))
    return features


def _stack_rows(features: Sequence[TrackFeature]) -> list[int]:
    """A row per feature (0 nearest the plot) so that no two bars or labels in a row overlap:
    each goes to the lowest row that is free where it starts."""
    row_ends: list[float] = []
    rows = [0] * len(features)
    order = sorted(range(len(features)), key=lambda i: _extent(features[i]))
    for i in order:
        start, end = _extent(features[i])
        row = next((r for r, row_end in enumerate(row_ends) if row_end <= start), len(row_ends))
        if row == len(row_ends):
            row_ends.append(end)
        row_ends[row] = end
        rows[i] = row
    return rows


def _extent(feature: TrackFeature) -> tuple[float, float]:
    return min(feature.start, feature.text_start), max(feature.end, feature.text_end)


def _row_count(rows: Sequence[int]) -> int:
    return max(rows, default=-1) + 1


@contextmanager
def _paper_figure() -> Iterator[Figure]:
    """A figure on an Agg canvas in the paper style, freed afterwards. Size it with
    ``set_size_inches``."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _STYLE_LOCK, matplotlib.rc_context(PAPER_RC):
        figure = Figure(dpi=DPI)
        FigureCanvasAgg(figure)
        try:
            yield figure
        finally:
            figure.clear()


def _svg_text(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue().decode("utf-8")


def _png_bytes(figure: Figure) -> bytes:
    """matplotlib's PNG carries only Software and dpi, no timestamp."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _add_axes_inches(
    figure: Figure, box: tuple[float, float, float, float], **kwargs: object
) -> Axes:
    """Axes at (left, bottom, width, height) in inches: panels align exactly across rows."""
    width, height = figure.get_size_inches()
    left, bottom, box_width, box_height = box
    return figure.add_axes(
        (left / width, bottom / height, box_width / width, box_height / height), **kwargs
    )


def _wrap(title: str, width_inches: float) -> list[str]:
    """The title in lines that fit the figure (a narrow figure of a short stretch must not cut
    it off)."""
    return textwrap.wrap(title, width=max(int(width_inches * TITLE_CHARS_PER_INCH), 20))


def _ism_axes(
    figure: Figure, plot_inches: float, track_rows: int, title_lines: int = 1
) -> tuple[Axes, Axes, Axes, Axes | None]:
    """Logo over heatmap on one x axis, the colourbar beside the heatmap, the motif track (if
    any) over the logo, room for the title's lines on top."""
    left, right = ISM_LEFT_INCHES, ISM_RIGHT_INCHES
    bottom, heat_height, logo_height, gap = 0.5, 0.8, 1.3, 0.1
    track_height = track_rows * TRACK_ROW_INCHES
    top = 0.45 + (title_lines - 1) * TITLE_LINE_INCHES
    figure.set_size_inches(
        left + plot_inches + right, bottom + heat_height + gap + logo_height + track_height + top
    )
    heat = _add_axes_inches(figure, (left, bottom, plot_inches, heat_height))
    colorbar = _add_axes_inches(figure, (left + plot_inches + 0.15, bottom, 0.12, heat_height))
    logo_bottom = bottom + heat_height + gap
    logo = _add_axes_inches(figure, (left, logo_bottom, plot_inches, logo_height), sharex=heat)
    track = None
    if track_rows:
        box = (left, logo_bottom + logo_height, plot_inches, track_height)
        track = _add_axes_inches(figure, box, sharex=heat)
    return logo, heat, colorbar, track


def _draw_logo(axes: Axes, boxes: Sequence[LetterBox]) -> None:
    from matplotlib.patches import PathPatch

    glyphs = _glyphs()
    for box in boxes:
        color = BASE_COLORS.get(box.base, UNKNOWN_COLOR)
        path = _fit_glyph(glyphs[box.base], box)
        axes.add_patch(PathPatch(path, facecolor=color, edgecolor="none", linewidth=0))
    low = min((box.bottom for box in boxes), default=0.0)
    high = max((box.bottom + box.height for box in boxes), default=0.0)
    pad = 0.05 * ((high - low) or 1.0)
    axes.set_ylim(low - pad, high + pad)
    axes.axhline(0, color="#444444", linewidth=0.5)
    axes.set_ylabel("importance (−mean Δ)")
    axes.tick_params(labelbottom=False)
    axes.spines[["top", "right"]].set_visible(False)


def _glyphs() -> dict[str, Path]:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    bold = FontProperties(family=FONT, weight="bold")
    return {base: TextPath((0, 0), base, size=1, prop=bold) for base in BASES + "N"}


def _fit_glyph(glyph: Path, box: LetterBox) -> Path:
    """The glyph's outline stretched to fill its box (width ``LETTER_WIDTH``)."""
    from matplotlib.transforms import Affine2D

    outline = glyph.get_extents()
    transform = (
        Affine2D()
        .translate(-outline.x0, -outline.y0)
        .scale(LETTER_WIDTH / outline.width, box.height / outline.height)
        .translate(box.x - LETTER_WIDTH / 2, box.bottom)
    )
    return transform.transform_path(glyph)


def _draw_effects(heat: Axes, colorbar: Axes, effects: np.ndarray, reference: str) -> None:
    """Rows A, C, G, T; diverging colours symmetric around 0; a dot on each reference base."""
    limit = float(np.abs(effects).max()) or 1.0
    image = heat.imshow(
        effects.T, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest"
    )
    codes = np.array([BASES.find(base) for base in reference])
    known = np.flatnonzero(codes >= 0)
    heat.scatter(known, codes[known], s=1.2, color="black", linewidths=0)
    heat.set_yticks(range(4), labels=list(BASES))
    for label, base in zip(heat.get_yticklabels(), BASES, strict=True):
        label.set_color(BASE_COLORS[base])
        label.set_fontweight("bold")
    heat.set_ylabel("substitution")
    heat.figure.colorbar(image, cax=colorbar, label="Δ objective (alt − ref)")


def _draw_genomic_axis(axes: Axes, shown: Interval, plot_inches: float) -> None:
    """Evenly spaced 1-based contig positions; the contig named in the axis label."""
    positions = _genomic_ticks(shown, max(3, round(plot_inches / 0.9)))
    axes.set_xticks([p - 1 - shown.start for p in positions], labels=[f"{p:,}" for p in positions])
    axes.set_xlim(-0.5, len(shown) - 0.5)
    axes.set_xlabel(f"{shown.readable()} (1-based)")


def _genomic_ticks(shown: Interval, count: int) -> list[int]:
    """About ``count`` round 1-based positions inside ``shown`` (steps of 1, 2 or 5 × 10^k)."""
    wanted = max(len(shown) / count, 1)
    power = 10 ** math.floor(math.log10(wanted))
    step = next(power * m for m in (1, 2, 5, 10) if power * m >= wanted)
    first = -(-(shown.start + 1) // step) * step
    return list(range(first, shown.end + 1, step))


def _draw_track(
    axes: Axes, features: Sequence[TrackFeature], rows: Sequence[int], *, vertical: bool = False
) -> None:
    """Bars with their labels, row 0 next to the plot. ``vertical`` for a track to the left of
    a plot (the features run along y, rows grow leftwards)."""
    for feature, row in zip(features, rows, strict=True):
        across = row + 0.38  # clear of the plot's tick marks
        along = (feature.start, feature.end)
        if vertical:
            axes.plot(
                (-across, -across), along, color="#1f6feb", linewidth=2, solid_capstyle="butt"
            )
            axes.text(
                -across - 0.1,
                feature.text_start,
                feature.text,
                rotation=-90,  # reads downwards, so strand arrows point the right way
                fontsize=LABEL_POINTS,
                ha="right",
                va="top",
            )
        else:
            axes.plot(along, (across, across), color="#1f6feb", linewidth=2, solid_capstyle="butt")
            axes.text(
                feature.text_start, across + 0.1, feature.text, fontsize=LABEL_POINTS, va="bottom"
            )
    extent = (-max(rows) - 1, 0) if vertical else (0, max(rows) + 1)
    (axes.set_xlim if vertical else axes.set_ylim)(*extent)
    axes.set_axis_off()


def _attention_axes(
    figure: Figure, side: float, track_rows: int
) -> tuple[Axes, Axes, Axes | None, Axes | None]:
    """The square heatmap, its colourbar, and gene tracks above it and to its left."""
    track = track_rows * TRACK_ROW_INCHES
    left, bottom = 0.75 + track, 0.6
    figure.set_size_inches(left + side + 1.2, bottom + side + track + 0.45)
    heat = _add_axes_inches(figure, (left, bottom, side, side))
    colorbar = _add_axes_inches(figure, (left + side + 0.15, bottom, 0.12, side))
    if not track_rows:
        return heat, colorbar, None, None
    top = _add_axes_inches(figure, (left, bottom + side, side, track), sharex=heat)
    beside = _add_axes_inches(figure, (0.75, bottom, track, side), sharey=heat)
    return heat, colorbar, top, beside


def _draw_kb_axes(axes: Axes, chrom: str, left_track_inches: float) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_locator(MaxNLocator(5))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:,.1f}"))
    axes.set_xlabel(f"keys (attended to): {chrom}, kb")
    axes.set_ylabel(f"queries: {chrom}, kb")
    # The y labels go beyond the gene track that lies between them and the heatmap.
    axes.tick_params(axis="y", pad=left_track_inches * 72 + 5)
