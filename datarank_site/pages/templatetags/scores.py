"""Score figures as the pages show them; the arithmetic stays in scoring.datarank."""

from django import template

from scoring.datarank import format_score, format_share, format_top_percent

register = template.Library()


@register.filter
def score(value: float | None) -> str:
    """A DataRank or one of its parts: 30.554 -> "30.6", 0.0312 -> "0.031" (see format_score)."""
    return "" if value is None else format_score(value)


@register.filter
def top_percent(value: float | None) -> str:
    """12.34 -> "13%", 0.66 -> "0.7%" (see format_top_percent for the rounding)."""
    return "" if value is None else format_top_percent(value)


@register.filter
def share(percent: float) -> str:
    """94.6 -> "95%", 0.4 -> "<1%" (see format_share)."""
    return format_share(percent)


@register.filter
def percent(fraction: float) -> str:
    """0.9 -> "90%"."""
    return f"{round(100 * fraction)}%"
