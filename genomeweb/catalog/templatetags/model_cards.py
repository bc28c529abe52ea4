"""``{% validation_notice name %}``: what a model's variant effects are worth, with a link to
its card, wherever its scores are shown or asked for."""

from __future__ import annotations

from django import template

from genomeweb.catalog.cards import read_card
from genomeweb.catalog.models import Predictor

register = template.Library()


@register.inclusion_tag("catalog/validation_notice.html")
def validation_notice(model_name: str) -> dict:
    predictor = Predictor.objects.filter(name=model_name).first()
    if predictor is None:
        return {"predictor": None}
    card = read_card(predictor)
    return {"predictor": predictor, "validated": card.validated, "validation": card.validation}
