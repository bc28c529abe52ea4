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


PERCENTILE_TITLE = (
    "share of random SNVs at a similar distance from a gene start whose |score| on this track "
    "is at most this one's (the model's score background)"
)
NOISE_TITLE = (
    "|score| above what moving the model's window alone does to random SNVs (95th percentile "
    "of that change on this track)"
)


@register.simple_tag
def percentile(value: float | None, beyond_noise: bool | None = None) -> str:
    """ "97.5" with what it means on hover, then a "beyond noise" / "within noise" badge when
    the flag is known; "—" without a background."""
    if value is None:
        return format_html('<span class="muted" title="{}">—</span>', "no score background")
    text = format_html('<span title="{}">{}</span>', PERCENTILE_TITLE, floatformat(value, 1))
    if beyond_noise is None:
        return text
    badge = "beyond noise" if beyond_noise else "within noise"
    kind = "beyond" if beyond_noise else "within"
    return format_html(
        '{} <span class="badge noise {}" title="{}">{}</span>', text, kind, NOISE_TITLE, badge
    )
