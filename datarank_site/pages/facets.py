"""The facets beside the search results: how the first matches spread over publication years,
tiers, ranked or not, OpenAlex types and subfields, each value a link that narrows the search.

They count the matches search has already found (papers.search.first_matches, at most
SEARCH_COUNT_CAP of them, in result order), in one pass, and name the subfields from the run's
stored figures, so they cost no query of their own but for a subfield no ranked paper has."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.db.models.fields.json import KT
from django.utils.safestring import SafeString, mark_safe

from datarank_site.pages.forms import SearchForm
from papers.models import Work
from papers.search import Match
from scoring.models import ScoringRun

# The subfields listed, most matches first: the rest are one search away.
SUBFIELDS_SHOWN = 8
# Where the year facet's spans start, newest first; the last one takes every earlier year.
YEAR_SPANS = ((2020, None), (2010, 2019), (2000, 2009), (1990, 1999), (None, 1989))


@dataclass(frozen=True)
class Option:
    label: str
    count: int
    url: str
    chosen: bool
    # The count is the cap on matches counted: "1,000+".
    at_cap: bool = False

    @property
    def html(self) -> SafeString:
        """The option's list item, made here: through the template, the facets' two dozen took
        a third of the search page's rendering."""
        label = escape(self.label)
        if self.chosen:
            shown = f'<span class="facet__chosen" aria-current="true">{label}</span>'
        else:
            url = escape(self.url)
            shown = (
                f'<a href="{url}" hx-get="{url}" hx-target="#search-page" hx-swap="outerHTML" hx-push-url="true" '
                f'hx-indicator="#search-results">{label}</a>'
            )
        count = f"{self.count:,}+" if self.at_cap else f"{self.count:,}"
        # The label and the address are escaped above; the count is a number.
        return mark_safe(f'<li>{shown} <span class="facet__count">{count}</span></li>\n')


@dataclass(frozen=True)
class Facet:
    name: str
    title: str
    options: tuple[Option, ...]
    # The link that lifts this facet's filter, when one is chosen.
    clear_url: str = ""


def search_facets(form: SearchForm, matches: Sequence[Match], run: ScoringRun | None, *, cap: int) -> list[Facet]:
    """The facets of `matches`, the first `cap` matches of a search at most."""
    chosen = form.cleaned_data
    years: Counter[int | None] = Counter()
    tiers: Counter[int | None] = Counter()
    types: Counter[str] = Counter()
    subfields: Counter[int | None] = Counter()
    for match in matches:
        years[match.publication_year] += 1
        tiers[match.tier] += 1
        types[match.type] += 1
        subfields[match.subfield_id] += 1
    ranked = Counter({True: sum(n for tier, n in tiers.items() if tier is not None), False: tiers[None]})
    del tiers[None], types[""], subfields[None]
    facets = [
        _years(form, years, cap),
        _facet(form, "tier", "Tier", tiers, cap, label=lambda tier: f"S{tier}", order=sorted),
        _facet(
            form,
            "ranked",
            "Ranked",
            +ranked,
            cap,
            label=lambda ranked: "Ranked" if ranked else "Not yet ranked",
            order=lambda values: sorted(values, reverse=True),
        ),
        _facet(form, "type", "Type", types, cap, label=lambda kind: kind.replace("-", " ").capitalize()),
    ]
    shown = [number for number, _ in subfields.most_common(SUBFIELDS_SHOWN) if number is not None]
    if chosen["subfield"] is not None and chosen["subfield"] not in shown:
        shown.append(chosen["subfield"])
    names = _subfield_names(shown, matches, run)
    facets.append(
        _facet(
            form,
            "subfield",
            "Subfield",
            Counter({number: subfields[number] for number in shown}),
            cap,
            label=lambda number: names.get(number) or f"Subfield {number}",
        )
    )
    return [facet for facet in facets if facet.options]


def _facet(form: SearchForm, name: str, title: str, counts: Counter, cap: int, *, label, order=None) -> Facet:
    chosen = form.cleaned_data[name]
    values = order(counts) if order else [value for value, _ in counts.most_common()]
    if chosen is not None and chosen != "" and chosen not in values:
        values.append(chosen)
    options = tuple(
        Option(label(value), counts[value], form.url(**{name: value}), value == chosen, counts[value] >= cap)
        for value in values
    )
    clear = form.url(**{name: None}) if chosen not in (None, "") else ""
    return Facet(name, title, options, clear)


def _years(form: SearchForm, years: Counter[int | None], cap: int) -> Facet:
    chosen = (form.cleaned_data["year_from"], form.cleaned_data["year_to"])
    options = []
    for start, end in YEAR_SPANS:
        count = sum(
            n
            for year, n in years.items()
            if year is not None and (start is None or year >= start) and (end is None or year <= end)
        )
        if count or chosen == (start, end):
            label = f"{start} on" if end is None else f"Before {end + 1}" if start is None else f"{start}\u2013{end}"
            url = form.url(year_from=start, year_to=end)
            options.append(Option(label, count, url, chosen == (start, end), count >= cap))
    clear = form.url(year_from=None, year_to=None) if chosen != (None, None) else ""
    return Facet("years", "Published", tuple(options), clear)


def _subfield_names(numbers: list[int], matches: Sequence[Match], run: ScoringRun | None) -> dict[int, str]:
    """The names OpenAlex gives the subfields: the run's stored ones (scoring.summary, every
    subfield of a ranked paper), else read off the first matching paper of each (one query over
    at most SUBFIELDS_SHOWN + 1 papers: reading every match's primary topic took 40 ms for a
    common prefix)."""
    stored = {number: name for number, name, _ in (run.figures.get("subfields", ()) if run else ())}
    names = {number: stored[number] for number in numbers if stored.get(number)}
    missing = [number for number in numbers if number not in names]
    if not missing:
        return names
    first: dict[int, int] = {}
    for match in matches:
        if match.subfield_id in missing:
            first.setdefault(match.subfield_id, match.work_id)
    rows = Work.objects.filter(id__in=first.values()).values_list("subfield_id", KT("primary_topic__subfield__name"))
    return names | {number: name for number, name in rows if number is not None and name}
