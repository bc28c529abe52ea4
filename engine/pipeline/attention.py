"""The attention job: one layer's attention map over a window, as an npz and a heatmap."""

from pathlib import Path

import numpy as np

from engine.interpret.attention import attention_map
from engine.interpret.figures import attention_png, attention_svg
from engine.io.annotation import Gene
from engine.io.encoding import one_hot
from engine.io.intervals import Interval
from engine.models.base import ModelAdapter
from engine.pipeline.common import Allele, InterpretationOutput, carrying, window_sequence


def run_attention(
    model: ModelAdapter,
    fasta: Path,
    window: Interval,
    layer: int,
    head: int | None,
    genes: list[Gene],
    out_dir: Path,
    allele: Allele | None = None,
) -> InterpretationOutput:
    """One layer's attention over ``window`` (carrying ``allele`` if given): ``attention.npz``
    (the N × N map) and ``attention.svg`` (the heatmap with coordinates and genes)."""
    sequence, _ = window_sequence(fasta, window, allele)
    result = attention_map(model, one_hot(sequence), layer, head)
    tokens = len(result.weights)
    dtype = np.float16 if tokens > 1024 else np.float32  # Borzoi's 4,096² map: 32 MB
    npz = out_dir / "attention.npz"
    np.savez(  # numpy dates every entry 1980-01-01: equal arrays, equal bytes
        npz,
        weights=result.weights.astype(dtype),
        chrom=window.chrom,
        window_start=window.start,
        window_end=window.end,
        token_bp=result.token_bp,
    )
    which = "mean of heads" if head is None else f"head {head + 1}"
    title = f"{model.name}: layer {layer + 1}, {which}, {window.readable()}{carrying(allele)}"
    svg, png = out_dir / "attention.svg", out_dir / "attention.png"
    svg.write_text(attention_svg(result.weights, window, genes, title))
    png.write_bytes(attention_png(result.weights, window, genes, title))
    summary = {
        "window": [window.chrom, window.start, window.end],
        "layer": layer,
        "head": head,
        "heads": result.heads,
        "tokens": tokens,
        "token_bp": result.token_bp,
        "title": title,
    }
    files = [
        (npz, "application/octet-stream", "Attention weights (tokens × tokens; rows: queries)"),
        (svg, "image/svg+xml", "Attention heatmap with coordinates and genes (SVG)"),
        (png, "image/png", "The same heatmap as a figure (PNG, 200 dpi)"),
    ]
    return InterpretationOutput(files, summary)
