"""A model's card as the pages show it: its MODEL_CARD.md (rendered, raw HTML escaped), its
evaluation (``manage.py evaluate_model --card``) and what is known of its variant effects.

Both files live in the model's first weights folder, beside ``config.json``; a model without
them still works, and its pages say that nothing was measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import markdown
from django.utils.safestring import SafeString, mark_safe

from genomeweb.catalog.models import Predictor, resolve_data_path

UNVALIDATED = (
    "No measured variant effects have been compared with this model's predictions: its "
    "variant effects are unvalidated predictions."
)


@dataclass(frozen=True)
class ModelCard:
    html: SafeString  # MODEL_CARD.md rendered; empty when the folder has none
    validated: bool  # whether measured variant effects support its predictions
    validation: str  # what was measured, in words
    evaluation: dict | None  # metrics.json's "evaluation"
    scoring_stability: dict | None = None  # metrics.json's "scoring_stability"


def read_card(predictor: Predictor) -> ModelCard:
    folder = _folder(predictor)
    metrics = _json(folder / "metrics.json") if folder else {}
    declared = metrics.get("variant_level_validation") or {}
    return ModelCard(
        html=_render(folder / "MODEL_CARD.md") if folder else mark_safe(""),
        validated=declared.get("status") == "validated",
        validation=declared.get("statement") or UNVALIDATED,
        evaluation=metrics.get("evaluation"),
        scoring_stability=_with_rows(metrics.get("scoring_stability")),
    )


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


def _render(path: Path) -> SafeString:
    try:
        text = path.read_text()
    except OSError:
        return mark_safe("")
    converter = markdown.Markdown(extensions=["tables"])
    # An administrator places the card, but it is shown to every member: HTML written in it is
    # shown as text, never run (the raw-HTML handlers are what lets markdown pass it through).
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return mark_safe(converter.convert(text))
