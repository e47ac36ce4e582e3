"""A blast mapping's source in words: `{{ mapping.source|value_source_label }}` -> "Contact attribute"."""

from __future__ import annotations

from django import template

from messaging.models import Blast

register = template.Library()


@register.filter
def value_source_label(source: str) -> str:
    """The translated label of a `Blast.ValueSource` value; an unknown value as it is."""
    try:
        return Blast.ValueSource(source).label
    except ValueError:
        return source
