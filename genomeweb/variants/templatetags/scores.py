"""A score as a biologist reads it: the value, and ± its spread over the model's replicates."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html

register = template.Library()

SPREAD_TITLE = "standard deviation over the model's replicates (the score is their mean)"


@register.simple_tag
def score(value: float | None, spread: float | None = None, digits: int = 4) -> str:
    """``value`` to ``digits`` places, then "± spread" when the job used several replicates;
    "—" when there is no value."""
    if value is None:
        return "—"
    if spread is None:
        return floatformat(value, digits)
    return format_html(
        '{}<span class="spread" title="{}"> ± {}</span>',
        floatformat(value, digits),
        SPREAD_TITLE,
        floatformat(spread, digits),
    )
