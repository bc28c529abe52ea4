"""A model's card as the pages show it: its MODEL_CARD.md (rendered, raw HTML escaped), its
measured accuracy and evaluation (metrics.json), what each score means, and what is known of
its variant effects.

Both files live in the model's first weights folder, beside ``config.json``; a model without
them still works, and its pages say that nothing was measured. Numbers that metrics.json holds
(accuracy, proxies, placement stability) are rendered from it; MODEL_CARD.md supplies the prose
sections (data, split, architecture, training, track names, limits), each under its own anchor
so every score and track name elsewhere can link to the section that defines it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import markdown
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from genomeweb.catalog.models import Predictor, resolve_data_path

UNVALIDATED = (
    "No measured variant effects have been compared with this model's predictions: its "
    "variant effects are unvalidated predictions."
)
# Card sections of MODEL_CARD.md that the page renders from metrics.json instead (when it
# holds them): heading prefix → metrics.json key.
FROM_METRICS = {
    "Accuracy": "model_rc",
    "Variant-level validation": "",  # always: the page's own validation section
    "Variant-level proxies": "evaluation",
    "Placement stability": "scoring_stability",
}
ANCHORS = {"Data and provenance": "data", "Track names": "track-names"}
LEVELS = {"bins_32bp": "32 bp bins", "gene_level": "gene level"}


@dataclass(frozen=True)
class CardSection:
    title: str
    anchor: str
    html: SafeString  # empty for the accuracy section, which the page draws from ``accuracy``

    @property
    def short_title(self) -> str:
        """For the card's table of contents: "Architecture (2,685,596 parameters)" →
        "Architecture"."""
        return self.title.split(":")[0].split(" (")[0]


@dataclass(frozen=True)
class ModelCard:
    intro: SafeString  # MODEL_CARD.md before its first section; empty when the folder has none
    validated: bool  # whether measured variant effects support its predictions
    validation: str  # what was measured, in words
    evaluation: dict | None  # metrics.json's "evaluation"
    scoring_stability: dict | None = None  # metrics.json's "scoring_stability"
    sections: list[CardSection] = field(default_factory=list)
    accuracy: dict | None = None  # metrics.json's test-set accuracy as a table
    gene_region: str = "its exons"  # the bins a gene-level score sums

    @property
    def anchors(self) -> set[str]:
        return {section.anchor for section in self.sections}


def read_card(predictor: Predictor) -> ModelCard:
    folder = _folder(predictor)
    metrics = _json(folder / "metrics.json") if folder else {}
    config = _json(folder / "config.json") if folder else {}
    declared = metrics.get("variant_level_validation") or {}
    text = _read(folder / "MODEL_CARD.md") if folder else ""
    intro, sections = _sections(text, metrics)
    return ModelCard(
        intro=_render(intro),
        validated=declared.get("status") == "validated",
        validation=declared.get("statement") or UNVALIDATED,
        evaluation=metrics.get("evaluation"),
        scoring_stability=_with_rows(metrics.get("scoring_stability")),
        sections=sections,
        accuracy=_accuracy(metrics),
        gene_region=_gene_region(config.get("gene_region")),
    )


def _sections(text: str, metrics: dict) -> tuple[str, list[CardSection]]:
    """The card's text before its first ``## `` heading, and its sections: rendered Markdown,
    or (for what metrics.json holds) left to the page. The accuracy table takes the place of
    the card's accuracy section, or comes last when the card has none."""
    parts = re.split(r"^## +(.+)$", text, flags=re.MULTILINE)
    intro = re.sub(r"^# .*$", "", parts[0], count=1, flags=re.MULTILINE)  # the page has a title
    sections, has_accuracy = [], False
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        replaced = next(
            (key for prefix, key in FROM_METRICS.items() if title.startswith(prefix)), None
        )
        if replaced is None or (replaced and replaced not in metrics):
            sections.append(CardSection(title, _anchor(title), _render(body)))
        elif replaced == "model_rc":
            sections.append(CardSection(title, "accuracy", mark_safe("")))
            has_accuracy = True
    if "model_rc" in metrics and not has_accuracy:
        sections.append(CardSection("Accuracy", "accuracy", mark_safe("")))
    return intro, sections


def _anchor(title: str) -> str:
    return ANCHORS.get(title) or slugify(title.split(":")[0].split("(")[0])


def _accuracy(metrics: dict) -> dict | None:
    """metrics.json's test-set Pearsons (``engine.training.evaluate``) as rows against the
    replicate ceiling and the baseline: ``{"columns": [...], "rows": [{label, kind, values}],
    "chromosomes", "genes", "per_chromosome"}``; None when it holds none."""
    model = metrics.get("model_rc")
    if not model:
        return None
    groups = list(model["bins_32bp"])  # the sample groups, e.g. WT and diamide
    cells = [(level, group) for level in LEVELS for group in groups]
    rows = [
        _accuracy_row("This model, reverse-complement averaging (default)", "model", model, cells),
    ]
    if "model_forward_only" in metrics:
        forward = metrics["model_forward_only"]
        rows.append(_accuracy_row("This model, forward strand only", "model", forward, cells))
    for key, values in metrics.items():
        if key.startswith("replicate_"):  # replicate_WT1_vs_WT2: {level: Pearson}
            pair = key.removeprefix("replicate_")
            label = f"Ceiling: replicate {pair.replace('_vs_', ' vs ')}"
            ceiling = {lv: {g: values[lv] for g in groups if pair.startswith(g)} for lv in LEVELS}
            rows.append(_accuracy_row(label, "ceiling", ceiling, cells))
    if "baseline_distance_to_tss" in metrics:
        label = "Baseline: profile by distance to the gene start"
        rows.append(_accuracy_row(label, "baseline", metrics["baseline_distance_to_tss"], cells))
    by_chromosome = model.get("per_chromosome_32bp") or {}  # {chrom: {group: Pearson}}
    return {
        "columns": [f"{LEVELS[level]}, {group}" for level, group in cells],
        "rows": rows,
        "chromosomes": metrics.get("test_chromosomes") or list(by_chromosome),
        "genes": metrics.get("genes_scored"),
        "per_chromosome": [(chrom, found[groups[0]]) for chrom, found in by_chromosome.items()],
        "first_group": groups[0],
    }


def _accuracy_row(label: str, kind: str, measured: dict, cells: list) -> dict:
    values = [(measured.get(level) or {}).get(group) for level, group in cells]
    return {"label": label, "kind": kind, "values": values}


def _gene_region(raw: dict | None) -> str:
    """A model's gene-level window in words (config.json ``gene_region``, see
    ``engine.models.base.GeneRegion``): a TSS model's window around the start, else exons."""
    if not raw:
        return "its exons"
    return f"the bins from {raw['upstream']} bp before its start to {raw['downstream']} bp into it"


def _with_rows(stability: dict | None) -> dict | None:
    """``scoring_stability`` with ``rows``: (what was compared, its agreement) to show."""
    if not stability:
        return None
    genes = stability.get("gene_logSED") or {}
    found = [
        ("logSED of every allele × track, window shifted by 7 bp", stability.get("shift_0_vs_7")),
        (
            "logSED, a window centred on each variant vs the engine's shared windows",
            stability.get("centred_vs_shared_windows"),
        ),
        ("gene-level logSED, window shifted by 7 bp", genes.get("shift_0_vs_7")),
        ("gene-level logSED, centred vs shared windows", genes.get("centred_vs_shared_windows")),
    ]
    return stability | {"rows": [(label, measure) for label, measure in found if measure]}


def _folder(predictor: Predictor) -> Path | None:
    if not predictor.replicates:
        return None
    return resolve_data_path(predictor.replicates[0]["path"])


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _render(text: str) -> SafeString:
    if not text.strip():
        return mark_safe("")
    converter = markdown.Markdown(extensions=["tables"])
    # An administrator places the card, but it is shown to every member: HTML written in it is
    # shown as text, never run (the raw-HTML handlers are what lets markdown pass it through).
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return mark_safe(converter.convert(text))


# --- what each score means ------------------------------------------------------------------
# As engine.variants.scorers computes them, after Calico's definitions (MODEL_NOTES.md).


def scorer_anchor(scorer: str) -> str:
    """The card's anchor of a scorer's definition (``gene-logSED`` for the gene-level one)."""
    return f"scorer-{scorer}"


@dataclass(frozen=True)
class Scorer:
    code: str  # as jobs name it; "gene-" for the gene-level scores
    meaning: str
    formula: str
    unit: str

    @property
    def anchor(self) -> str:
        return scorer_anchor(self.code)

    @property
    def name(self) -> str:
        gene_level = self.code.startswith("gene-")
        return f"{self.code.removeprefix('gene-')} (gene level)" if gene_level else self.code


LOG_RATIO = "log2(ΣA + c) − log2(ΣR + c)"
SCORERS = [
    Scorer("logSED", "log2 fold change of the coverage summed over the window", LOG_RATIO, "log2"),
    Scorer("SUM", "change in the coverage summed over the window", "ΣA − ΣR", "reads"),
    Scorer("logSUM", "change in the summed log coverage", "Σ log2(A + c) − Σ log2(R + c)", "log2"),
    Scorer("D1", "L1 distance of the two profiles", "Σ |A − R|", "reads"),
    Scorer("D2", "L2 distance of the two profiles", "√Σ (A − R)²", "reads"),
    Scorer("logD1", "L1 distance of the log profiles", "Σ |log2(A + c) − log2(R + c)|", "log2"),
    Scorer("logD2", "L2 distance of the log profiles", "√Σ (log2(A + c) − log2(R + c))²", "log2"),
    Scorer(
        "SAX", "signed change at the most changed bin", "A − R where |A − R| is largest", "reads"
    ),
    Scorer(
        "JS",
        "symmetrised Kullback-Leibler divergence of the two profiles' shapes",
        "(KL(p‖q) + KL(q‖p)) / 2; p, q: R and A plus the 25th percentile of R, each scaled to "
        "sum to 1",
        "nats",
    ),
    Scorer("gene-SED", "change in the coverage summed over the gene's bins", "ΣA − ΣR", "reads"),
    Scorer("gene-logSED", "log2 fold change of the gene's summed coverage", LOG_RATIO, "log2"),
]
