"""A page of search results, each paper's list item made here from one query: its title, first
authors, venue, year, citations and the run's figures.

Made in Python, not through the template: Django's template engine took about 0.2 ms a result
(a dozen variables and filters each), a quarter of the search page's server time at 1M titles;
the markup is the same as the template's was, and the links the same as _paper_link.html and
_researcher_link.html make."""

from html import escape

from django.db import connection
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from datarank_site.pages.templatetags.titles import title_markup
from papers.models import Author, Authorship, Work
from scoring.datarank import format_score, format_top_percent
from scoring.models import PaperScore, ScoringRun

# A result names its first authors, and "et al." when there are more.
RESULT_AUTHORS = 3


def result_items(ids: list[int], run: ScoringRun | None) -> SafeString:
    """The `<li>` of each paper of `ids`, in their order, with the run's figures (none without a
    run): one query, the works joined to their scores and to their first authors plus one, which
    tells whether "et al." follows."""
    if not ids:
        return mark_safe("")
    quote = connection.ops.quote_name
    work, score = quote(Work._meta.db_table), quote(PaperScore._meta.db_table)
    authorship, author = quote(Authorship._meta.db_table), quote(Author._meta.db_table)
    listed = ", ".join(["%s"] * len(ids))
    sql = f"""
        SELECT w.id, w.title, w.venue, w.publication_year, w.cited_by_count,
               s.rank, s.tier, s.datarank, s.top_percent, first.author_id, first.display_name
        FROM {work} w
        LEFT JOIN {score} s ON s.work_id = w.id AND s.run_id = %s
        LEFT JOIN (SELECT a.work_id, a.author_id, n.display_name,
                          row_number() OVER (PARTITION BY a.work_id ORDER BY a.position, a.id) AS place
                   FROM {authorship} a JOIN {author} n ON n.id = a.author_id
                   WHERE a.work_id IN ({listed})) AS first ON first.work_id = w.id AND first.place <= %s
        WHERE w.id IN ({listed})
        ORDER BY w.id, first.place"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk if run else None, *ids, RESULT_AUTHORS + 1, *ids])
        rows = cursor.fetchall()
    works: dict[int, tuple] = {}
    authors: dict[int, list[tuple[int, str]]] = {}
    for *fields, author_id, name in rows:
        works.setdefault(fields[0], tuple(fields))
        if author_id is not None:
            authors.setdefault(fields[0], []).append((author_id, name))
    paper = reverse("paper", kwargs={"key": "W0"}).removesuffix("W0/")
    researcher = reverse("researcher", kwargs={"key": "A0"}).removesuffix("A0/")
    # Each item is made safe by _item.
    return mark_safe("".join(_item(works[key], authors.get(key, []), paper, researcher) for key in ids if key in works))


def _item(fields: tuple, authors: list[tuple[int, str]], paper: str, researcher: str) -> SafeString:
    key, title, venue, year, cited_by_count, rank, tier, datarank, top_percent = fields
    byline = ", ".join(
        f'<a href="{researcher}A{author_id}/">{escape(name or "Unnamed author")}</a>'
        for author_id, name in authors[:RESULT_AUTHORS]
    )
    if len(authors) > RESULT_AUTHORS:
        byline += " et al."
    if rank is not None:
        figures = (
            f'<span class="tier tier--{tier}" title="Tier S{tier}">S{tier}</span> '
            f"DataRank <strong>{format_score(datarank)}</strong> · top {format_top_percent(top_percent)}"
        )
    elif datarank is not None:
        figures = (
            '<span class="not-ranked" title="No citation with signal yet">Not ranked yet</span>'
            f" · DataRank <strong>{format_score(datarank)}</strong>"
        )
    else:
        figures = "Not yet scored"
    # Every value is escaped here, or is a number, or is markup made above or by title_markup.
    return mark_safe(
        f'<li class="result">\n<a class="paper-title" href="{paper}W{key}/">'
        f"{title_markup(title) or 'Untitled work'}</a>\n"
        + (f'<span class="byline">{byline}</span>\n' if byline else "")
        + f'<span class="meta">{escape(venue or "Venue unknown")}{f" · {year}" if year else ""}</span>\n'
        f'<span class="figures">{figures} · {cited_by_count:,} citation{"" if cited_by_count == 1 else "s"}</span>\n'
        "</li>\n"
    )
