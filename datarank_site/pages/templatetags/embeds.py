"""The paper page's "Embed and badge" snippets, built where the page is rendered (its URLs are
absolute, so they need the request)."""

from django import template

from datarank_site.pages.embeds import Snippets, snippets
from datarank_site.pages.templatetags.titles import title_text

register = template.Library()


@register.simple_tag(takes_context=True)
def embed_snippets(context: template.Context, work) -> Snippets:
    """`{% embed_snippets work as snippets %}`: the badge, card and links of `work`."""
    return snippets(context["request"], openalex_id=work.openalex_id, title=title_text(work.title))
