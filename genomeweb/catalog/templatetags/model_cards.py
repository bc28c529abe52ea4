"""``{% validation_notice name %}``: what a model's variant effects are worth, with a link to
its card, wherever its scores are shown or asked for. ``{% card_url %}`` and
``{% scorer_link %}``: links from a score or a track name to the section of the model's card
that defines it (``catalog/model_detail.html``)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from genomeweb.catalog.cards import read_card, scorer_anchor
from genomeweb.catalog.models import Predictor

register = template.Library()


@register.inclusion_tag("catalog/validation_notice.html")
def validation_notice(model_name: str) -> dict:
    predictor = Predictor.objects.filter(name=model_name).first()
    if predictor is None:
        return {"predictor": None}
    card = read_card(predictor)
    return {"predictor": predictor, "validated": card.validated, "validation": card.validation}


@register.simple_tag
def card_url(model_name: str, section: str = "card") -> str:
    """The address of one section of a model's card: ``card``, ``accuracy``, ``track-names``,
    ``scorer-logSED``, …"""
    return f"{reverse('gw-model', args=[model_name])}#{section}"


@register.simple_tag
def scorer_link(model_name: str, scorer: str, label: str = "") -> str:
    """``label`` (default: the scorer's name) linked to the definition of ``scorer`` on the
    model's card; ``gene-logSED`` and ``gene-SED`` are the gene-level scores."""
    text = label or scorer
    if not model_name:
        return text
    return format_html(
        '<a class="defined" href="{}" title="What {} means: {}\'s model card">{}</a>',
        card_url(model_name, scorer_anchor(scorer)),
        scorer,
        model_name,
        text,
    )
