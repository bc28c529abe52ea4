"""Figures written as SVG by hand: exact, small, and free of a plotting stack in the worker.

The attention heatmap: token × token, genomic coordinates on both axes and the genes of the
window as bars along them. Each heatmap row is a ``<g data-row="i">`` so the result page can
make rows clickable (the linked igv.js view).
"""

from collections.abc import Sequence
from html import escape

import numpy as np

from genomeweb.genomics.annotation import Gene
from genomeweb.genomics.intervals import Interval

SIZE = 480  # px, the heatmap's side
MARGIN = 64  # px, room for labels
MAX_CELLS = 128  # per side: larger maps are averaged into blocks


def attention_svg(weights: np.ndarray, window: Interval, genes: Sequence[Gene], title: str) -> str:
    """``weights`` (N, N) as an SVG heatmap (white → dark blue, scaled to the largest weight
    after block-averaging)."""
    cells, block = _blocks(weights)
    n = len(cells)
    step = SIZE / n
    top = cells.max() or 1.0
    rows = []
    for i in range(n):
        y = MARGIN + i * step
        rects = "".join(
            f'<rect x="{MARGIN + j * step:.2f}" y="{y:.2f}" width="{step + 0.05:.2f}"'
            f' height="{step + 0.05:.2f}" fill="{_blue(cells[i, j] / top)}"/>'
            for j in range(n)
            if cells[i, j] > top * 0.01  # near-white cells add size, not information
        )
        start = window.start + i * block * len(window) // len(weights)
        rows.append(
            f'<g class="row" data-row="{i * block}" data-start="{start}">{rects}'
            f'<rect class="hit" x="{MARGIN}" y="{MARGIN + i * step:.2f}" width="{SIZE}"'
            f' height="{step:.2f}" fill="transparent"/></g>'
        )
    total = SIZE + 2 * MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} {total}" '
        f'width="{total}" height="{total}" font-family="sans-serif" font-size="10">',
        f'<text x="{MARGIN}" y="14" font-size="12">{escape(title)}</text>',
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{SIZE}" height="{SIZE}" fill="white" '
        'stroke="#999"/>',
        *rows,
        *_axes(window),
        *_gene_bars(window, genes),
        f'<text x="{MARGIN}" y="{total - 8}">keys (attended to) →</text>',
        f'<text x="12" y="{MARGIN + SIZE}" transform="rotate(-90 12 {MARGIN + SIZE})">'
        "queries →</text>",
        "</svg>",
    ]
    return "".join(parts)


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
    """Five ticks along each axis, in kb of the contig."""
    marks = []
    for k in range(5):
        fraction = k / 4
        position = window.start + fraction * len(window)
        offset = MARGIN + fraction * SIZE
        label = f"{position / 1000:,.1f} kb"
        marks.append(f'<text x="{offset:.1f}" y="{MARGIN - 6}" text-anchor="middle">{label}</text>')
        marks.append(
            f'<text x="{MARGIN - 4}" y="{offset + 3:.1f}" text-anchor="end">{label}</text>'
        )
    return marks


def _gene_bars(window: Interval, genes: Sequence[Gene]) -> list[str]:
    """Each gene as a bar under the top axis and beside the left one, named."""
    bars = []
    for gene in genes:
        first = max(gene.start, window.start)
        last = min(gene.end, window.end)
        if first >= last or gene.chrom != window.chrom:
            continue
        x = MARGIN + (first - window.start) / len(window) * SIZE
        width = max((last - first) / len(window) * SIZE, 1.0)
        name = escape(gene.name or gene.gene_id)
        bars.append(
            f'<rect x="{x:.1f}" y="{MARGIN - 30}" width="{width:.1f}" height="5" fill="#1f6feb">'
            f"<title>{name} ({gene.strand})</title></rect>"
            f'<text x="{x:.1f}" y="{MARGIN - 33}" font-size="9">{name}</text>'
            f'<rect x="{MARGIN - 58}" y="{x:.1f}" width="5" height="{width:.1f}" fill="#1f6feb">'
            f"<title>{name} ({gene.strand})</title></rect>"
        )
    return bars
