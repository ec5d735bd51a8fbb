"""Text written with Markdown's inline code (the FAIR fixes of scoring/fair/metrics.py: "add
`relatedIdentifiers` …"), shown as HTML: the text escaped, each `…` span as <code>…</code>."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# One backtick to the next on the same span; a lone backtick with no partner stays as it is.
CODE_SPAN = re.compile(r"`([^`]+)`")


@register.filter
def code_spans(text: str) -> SafeString:
    """ "add `subjects` to <it>" -> "add <code>subjects</code> to &lt;it&gt;". Escaping comes
    first and leaves backticks alone, so nothing in the text can become markup but <code>."""
    return mark_safe(CODE_SPAN.sub(r"<code>\1</code>", escape(text or "")))
