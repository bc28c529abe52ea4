"""Paper figures: the ISM logo + heatmap and the attention PNG, drawn with matplotlib.

The pure helpers (importance, letter boxes, the strongest stretch, label rows) are checked
against hand computations; the rendered files are checked for what a reader would look for
(title, genomic ticks, motif labels) and for byte-identical output on identical input.
"""

import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from engine.interpret.figures import (
    LetterBox,
    TrackFeature,
    _genomic_ticks,
    _letter_boxes,
    _logo_heights,
    _stack_rows,
    _strongest_stretch,
    attention_png,
    ism_figure,
)
from engine.io.annotation import Exon, Gene
from engine.io.intervals import Interval

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[3]


def motif(start: int, end: int, strand: str, label: str) -> SimpleNamespace:
    return SimpleNamespace(start=start, end=end, strand=strand, label=label)


def random_ism(length: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """Effects with 0 at each reference base, as ISM produces them."""
    rng = np.random.default_rng(seed)
    reference = "".join(rng.choice(list("ACGT"), length))
    effects = rng.normal(0, 0.1, (length, 4))
    effects[np.arange(length), ["ACGT".index(base) for base in reference]] = 0
    return effects, reference


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel: a truncated file fails here
    return image.size


def test_importance_is_minus_the_mean_substitution_effect_and_all_four_at_an_n():
    effects = np.array(
        [
            [0.0, -1.0, -2.0, -3.0],  # ref A: mean of C, G, T = −2
            [0.5, 0.0, 0.5, 0.5],  # ref C: raising the objective, importance −0.5
            [1.0, 2.0, 3.0, 6.0],  # N: mean of all four = 3
        ]
    )
    np.testing.assert_allclose(_logo_heights(effects, "ACN"), [2.0, -0.5, -3.0])


def test_a_base_whose_loss_lowers_the_objective_stands_above_the_line_with_its_importance():
    effects = np.zeros((6, 4))
    effects[3] = [-1.0, -1.0, 0.0, -1.0]  # position 3 is a G: its three substitutions cost 1
    effects[5] = [0.0, 0.0, 0.0, 0.5]  # the A at 5 gains from mutation: drawn below
    boxes = _letter_boxes(_logo_heights(effects, "ACTGCA"), "ACTGCA")
    assert boxes == [LetterBox("G", 3, 0.0, 1.0), LetterBox("A", 5, pytest.approx(-1 / 6), 1 / 6)]


def test_letters_other_than_acgt_are_drawn_as_n():
    boxes = _letter_boxes(np.array([0.5, -0.25]), "Nr")
    assert [(box.base, box.bottom, box.height) for box in boxes] == [
        ("N", 0.0, 0.5),
        ("N", -0.25, 0.25),
    ]


def test_the_strongest_stretch_is_the_window_with_the_largest_summed_effect():
    effects = np.zeros((1000, 4))
    effects[700:720] = -2.0
    effects[100] = 1.0  # weaker, and too far away to share a window with the block
    first, last = _strongest_stretch(effects, 400)
    assert last - first == 400 and first <= 700 and 720 <= last
    assert _strongest_stretch(effects[:300], 400) == (0, 300)


def test_genomic_ticks_are_round_1_based_positions_inside_the_region():
    ticks = _genomic_ticks(Interval("XV", 721_800, 721_992), 4)
    assert ticks == [721_850, 721_900, 721_950]
    assert _genomic_ticks(Interval("I", 0, 10), 10) == list(range(1, 11))


def test_overlapping_labels_are_stacked_and_separate_ones_share_a_row():
    features = [
        TrackFeature(0, 10, "a", 0, 30),  # its label runs past its bar
        TrackFeature(20, 25, "b", 20, 28),  # under a's label
        TrackFeature(40, 50, "c", 40, 45),  # clear of both
        TrackFeature(22, 26, "d", 22, 27),  # under a and b
    ]
    assert _stack_rows(features) == [0, 1, 0, 2]


def test_the_ism_figure_is_valid_svg_with_title_genomic_ticks_and_motifs_in_view():
    effects, reference = random_ism(192)
    region = Interval("XV", 721_800, 721_992)
    motifs = [
        motif(721_860, 721_877, "+", "GAL4 (MA0299.1)"),
        motif(721_980, 722_100, "-", "clipped (MA0001.1)"),
        motif(722_500, 722_510, "+", "outside (MA0002.1)"),
    ]
    svg, png = ism_figure(effects, reference, region, "GAL1 promoter", motifs)
    ET.fromstring(svg)
    text = "".join(ET.fromstring(svg).itertext())
    assert "GAL1 promoter" in text and "strongest" not in text
    assert "721,820" in text and "721,980" in text and "XV:721,801-721,992 (1-based)" in text
    assert "GAL4 (MA0299.1) →" in text and "clipped (MA0001.1) ←" in text
    assert "outside" not in text
    assert "importance (−mean Δ)" in text and "Δ objective (alt − ref)" in text
    png_size(png)


def test_the_figure_widens_with_the_positions_shown():
    narrow = png_size(ism_figure(*random_ism(100), Interval("I", 0, 100), "t")[1])
    wide = png_size(ism_figure(*random_ism(300), Interval("I", 0, 300), "t")[1])
    assert wide[0] > 1.5 * narrow[0] and wide[1] == narrow[1]


def test_a_long_title_wraps_over_a_narrow_figure_and_the_figure_grows_for_it():
    title = "yeast-demo: ISM of II:278,368-278,415 carrying T>C at 278,392, " * 3
    short = png_size(ism_figure(*random_ism(48), Interval("I", 0, 48), "t")[1])
    svg, png = ism_figure(*random_ism(48), Interval("I", 0, 48), title)
    lines = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    title_lines = [line for line in lines if line and "278" in line]
    assert len(title_lines) >= 3 and " ".join(title_lines).split() == title.split()
    assert png_size(png)[1] > short[1] and png_size(png)[0] == short[0]


def test_a_long_region_shows_only_its_strongest_400_bp_and_says_so():
    effects, reference = random_ism(2000)
    effects[1500:1520] *= 50
    region = Interval("II", 10_000, 12_000)
    svg, png = ism_figure(effects, reference, region, "long")
    text = "".join(ET.fromstring(svg).itertext())
    assert "long (strongest 400 of 2,000 bp)" in text
    first, last = _strongest_stretch(effects, 400)
    assert first <= 1500 and 1520 <= last
    assert f"II:{10_000 + first + 1:,}-{10_000 + last:,} (1-based)" in text
    full_width = png_size(ism_figure(*random_ism(400), Interval("I", 0, 400), "t")[1])[0]
    assert png_size(png)[0] == full_width


def test_the_ism_figure_is_byte_identical_on_identical_input():
    effects, reference = random_ism(60, seed=3)
    args = (effects, "N" + reference[1:], Interval("I", 5_000, 5_060), "again")
    motifs = [motif(5_010, 5_020, "+", "M (MA0003.1)")]
    svg, png = ism_figure(*args, motifs)
    assert (svg, png) == ism_figure(*args, motifs)
    assert "<dc:date>" not in svg
    assert b"tIME" not in png  # no timestamp chunk
    assert set(Image.open(io.BytesIO(png)).info) <= {"Software", "dpi"}


def test_mismatched_inputs_are_refused():
    effects, reference = random_ism(10)
    with pytest.raises(ValueError, match="effects cover 10 bp, the reference 9"):
        ism_figure(effects, reference[:9], Interval("I", 0, 10), "t")
    with pytest.raises(ValueError, match=r"must be \(L, 4\)"):
        ism_figure(effects[:, :3], reference, Interval("I", 0, 10), "t")


def test_the_attention_png_decodes_and_is_reproducible():
    weights = np.random.default_rng(0).random((256, 256)).astype(np.float32)
    window = Interval("XV", 700_000, 700_000 + 256 * 128)
    genes = [
        Gene("YBR020W", "GAL1", "XV", 702_000, 704_000, "+", "", (Exon(702_000, 704_000),)),
        Gene("YBR019C", "GAL10", "XV", 699_000, 702_500, "-", "", (Exon(699_000, 702_500),)),
        Gene("YOTHER", "ELSEWHERE", "II", 702_000, 704_000, "+", "", (Exon(702_000, 704_000),)),
    ]
    png = attention_png(weights, window, genes, "layer 1, mean of heads")
    width, height = png_size(png)
    assert 1000 < width < 2000 and 1000 < height < 2000  # about 7 × 6 in at 200 dpi
    assert png == attention_png(weights, window, genes, "layer 1, mean of heads")


def test_importing_the_module_does_not_import_matplotlib():
    code = "import sys, engine.interpret.figures; print('matplotlib' in sys.modules)"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- The attention heatmap as SVG (the result page's) -------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def attention_tree(weights, window, genes, title="layer 1"):
    from engine.interpret.figures import attention_svg

    text = attention_svg(weights, window, genes, title)
    return text, ET.fromstring(text)  # well-formed, whatever the names held


def test_the_attention_svg_has_a_colour_scale_with_its_values():
    weights = np.zeros((8, 8), dtype=np.float32)
    weights[2, 5] = 0.8
    _, root = attention_tree(weights, Interval("I", 0, 1024), [])
    legend = root.find(f"{SVG}g[@class='legend']")
    assert "from 0 (white) to 0.8 (dark blue)" in legend.get("aria-label")
    labels = [t.text for t in legend.iter(f"{SVG}text")]
    assert labels[:2] == ["Attention", "weight"] and {"0.8", "0.4", "0"} <= set(labels)
    fills = [r.get("fill") for r in legend.iter(f"{SVG}rect") if r.get("fill") != "none"]
    assert len(fills) == 24 and fills[0] != fills[-1]  # dark at the top, white at the bottom


def test_the_attention_svg_labels_genes_on_both_axes():
    genes = [
        Gene("YG1", "ALPHA", "I", 100, 400, "+", "", (Exon(100, 400),)),
        Gene("YG2", "", "I", 600, 900, "-", "", (Exon(600, 900),)),
    ]
    _, root = attention_tree(np.full((8, 8), 1 / 8, np.float32), Interval("I", 0, 1024), genes)
    bars = root.findall(f"{SVG}g[@class='gene']")
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "ALPHA (YG1), + strand, I:101-400",
        "YG2 (YG2), - strand, I:601-900",
    ]
    for bar, name in zip(bars, ("ALPHA →", "YG2 ←"), strict=True):
        assert [t.text for t in bar.iter(f"{SVG}text")] == [name, name]  # top and left
        assert len(bar.findall(f"{SVG}rect")) == 2


def test_attention_rows_are_reachable_by_keyboard_with_a_name():
    weights = np.eye(8, dtype=np.float32)
    _, root = attention_tree(weights, Interval("I", 0, 1024), [])
    rows = root.findall(f"{SVG}g[@class='row']")
    assert [r.get("tabindex") for r in rows] == ["0"] + ["-1"] * 7  # one tab stop
    assert rows[2].get("aria-label") == ("Queries I:257-384: strongest attention 1 to I:257-384")
    assert rows[2].find(f"{SVG}title").text == rows[2].get("aria-label")


def test_the_attention_svg_escapes_every_text():
    hostile = 'x"><script>alert(1)</script>&'
    gene = Gene(hostile, hostile, "I", 100, 400, "+", "", (Exon(100, 400),))
    text, root = attention_tree(
        np.full((8, 8), 1 / 8, np.float32), Interval("I", 0, 1024), [gene], title=hostile
    )
    assert "<script" not in text and root.find(f"{SVG}title").text == hostile
    assert all(element.tag.startswith(SVG) for element in root.iter())
    assert {e.tag.removeprefix(SVG) for e in root.iter()} <= {
        "svg",
        "title",
        "text",
        "rect",
        "g",
        "line",
    }


PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(2)</script>',
    "javascript:alert(3)",
    "<svg onload=alert(4)>",
    "' onmouseover='alert(5)",
    "]]><foreignObject><iframe src=javascript:alert(6)>",
    "<!--&#x3C;script&#x3E;-->&amp;",
]
SVG_ELEMENTS = {"svg", "title", "text", "rect", "g", "line"}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_user_text_becomes_markup_in_the_attention_svg(payload):
    """Gene names and IDs, the contig and the title (which carries a variant's alleles) each
    hold a payload: the SVG stays well-formed, holds only its own elements, no event handler
    and no link (where a javascript: URL would run), and shows each payload as plain text."""
    genes = [
        Gene(payload, payload, payload, 100, 400, "+", "", (Exon(100, 400),)),
        Gene(f"{payload}2", "", payload, 600, 900, payload, "", (Exon(600, 900),)),
    ]
    weights = np.full((8, 8), 1 / 8, np.float32)
    text, root = attention_tree(weights, Interval(payload, 0, 1024), genes, title=payload)
    elements = list(root.iter())
    assert {e.tag for e in elements} <= {f"{SVG}{name}" for name in SVG_ELEMENTS}
    for element in elements:
        for name in element.attrib:
            local = name.rsplit("}", 1)[-1].lower()  # xlink:href is {...xlink}href
            assert not local.startswith("on") and local not in {"href", "src"}, (element, name)
    assert root.find(f"{SVG}title").text == payload
    assert f"Queries {payload}:1-128" in root.find(f"{SVG}g[@class='row']").get("aria-label")
    names = [t.text for bar in root.iter(f"{SVG}g") if bar.get("class") == "gene" for t in bar]
    assert f"{payload} →" in names
    assert "<script" not in text.lower() and "<img" not in text.lower()


def test_the_attention_svg_axis_labels_fit_even_for_long_human_coordinates():
    """Tick labels like ``248,756.4 kb`` (the end of human chr1) stay inside the picture."""
    _, root = attention_tree(
        np.full((8, 8), 1 / 8, np.float32), Interval("chr1", 248_300_000, 248_824_288), []
    )
    width = float(root.get("width"))
    for text in root.iter(f"{SVG}text"):
        if text.get("transform"):
            continue  # rotated labels: checked by eye in the browser
        size = float(text.get("font-size") or 11) * 0.62 * len(text.text)  # sans-serif, wide
        x, anchor = float(text.get("x")), text.get("text-anchor") or "start"
        left = x - {"start": 0, "middle": size / 2, "end": size}[anchor]
        assert 0 <= left and left + size <= width, text.text
