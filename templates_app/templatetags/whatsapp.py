"""Show WhatsApp's text formatting (*bold*, _italic_, ~strike~, ```mono```) the way a phone does."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Applied to escaped text: the markers are not HTML-special, the result is safe.
FORMATS = (
    (re.compile(r"```(.+?)```", re.S), r"<code>\1</code>"),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"), r"<em>\1</em>"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])"), r"<s>\1</s>"),
)


@register.filter
def whatsapp(text: str) -> SafeString:
    html = escape(text or "")
    for pattern, replacement in FORMATS:
        html = pattern.sub(replacement, html)
    return mark_safe(html)  # noqa: S308 - built from escaped text
