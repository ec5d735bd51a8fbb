"""OpenAlex titles carry publisher markup (`CO<sub>2</sub>`, `<i>In situ</i>`). These filters
render the harmless inline tags and escape everything else, so a title can never inject HTML."""

import html
import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

KEPT_TAGS = frozenset({"i", "b", "sub", "sup"})
# Wiley wraps acronyms in small caps (`<scp>DNA</scp>`): the tag is dropped, its text kept.
DROPPED_TAGS = frozenset({"scp"})
# Only bare tags count as markup; `<i onclick=…>` does not match and is escaped as text.
TAG = re.compile(r"<(/?)([a-z]+)\s*>", re.IGNORECASE)


def _unescape(text: str) -> str:
    # Some records are escaped twice (`CO&amp;lt;sub&amp;gt;2`). Decoding before parsing is
    # safe because every piece of text is escaped again on the way out.
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _tokens(title: str) -> list[tuple[str, str]]:
    """Split a title into ("text", s), ("open", tag) and ("close", tag), balancing the kept tags:
    a closing tag with no opener is dropped, and whatever is still open at the end is closed."""
    tokens: list[tuple[str, str]] = []
    stack: list[str] = []
    position = 0
    source = _unescape(title)
    for match in TAG.finditer(source):
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in KEPT_TAGS and name not in DROPPED_TAGS:
            continue
        tokens.append(("text", source[position : match.start()]))
        position = match.end()
        if name in DROPPED_TAGS:
            continue
        if not closing:
            stack.append(name)
            tokens.append(("open", name))
        elif name in stack:
            # Close whatever was opened inside it, so `<i><b>x</i>` becomes `<i><b>x</b></i>`.
            while stack:
                inner = stack.pop()
                tokens.append(("close", inner))
                if inner == name:
                    break
    tokens.append(("text", source[position:]))
    tokens.extend(("close", name) for name in reversed(stack))
    return tokens


@register.filter
def title_markup(title: str) -> SafeString:
    """The title as HTML with only bare <i>, <b>, <sub> and <sup> kept, balanced."""
    parts: list[str] = []
    for kind, value in _tokens(title or ""):
        if kind == "text":
            parts.append(escape(value))
        else:
            parts.append(f"<{'/' if kind == 'close' else ''}{value}>")
    return mark_safe("".join(parts))


@register.filter
def title_text(title: str) -> str:
    """The title as plain text (for <title> and attributes); autoescaping still applies."""
    return "".join(value for kind, value in _tokens(title or "") if kind == "text")
