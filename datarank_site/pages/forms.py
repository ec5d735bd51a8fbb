from collections.abc import Sequence
from functools import cached_property
from typing import NamedTuple
from urllib.parse import urlencode

from django import forms
from django.db import models
from django.urls import reverse

from scoring.models import ScoringRun

MAX_QUERY_LENGTH = 300
# Publication years outside this span are typing mistakes, not filters.
MIN_YEAR, MAX_YEAR = 1000, 2999


def year_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        error_messages={
            "invalid": f"{label} must be a year such as 2015.",
            "min_value": f"{label} must be a year between {MIN_YEAR} and {MAX_YEAR}.",
            "max_value": f"{label} must be a year between {MIN_YEAR} and {MAX_YEAR}.",
        },
    )


# Tiers are equal quintiles of rank (DESIGN.md §1).
TIERS = [(1, "top 20%"), (2, "20 to 40%"), (3, "40 to 60%"), (4, "60 to 80%"), (5, "bottom 20%")]


def tier_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label="Tier",
        required=False,
        choices=[("", "All tiers"), *((str(tier), f"S{tier} ({label})") for tier, label in TIERS)],
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "“%(value)s” is not a tier: use 1 to 5 (S1 is the top 20%%)."},
    )


class Sort(models.TextChoices):
    RELEVANCE = "relevance", "Relevance"
    DATARANK = "datarank", "DataRank"
    CITATIONS = "citations", "Citations"
    YEAR = "year", "Newest first"


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search titles, authors and venues",
        required=False,
        strip=True,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": (
                f"A search can be at most {MAX_QUERY_LENGTH} characters long "
                "(yours has %(show_value)d). Try a few distinctive words of the title, an author or the venue."
            )
        },
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=Sort.choices,
        error_messages={
            "invalid_choice": "“%(value)s” is not a way to sort: use relevance, datarank, citations or year."
        },
    )
    year_from = year_field("From year")
    year_to = year_field("To year")
    tier = tier_field()
    # The facets beside the results (datarank_site.pages.facets) narrow by these too.
    ranked = forms.TypedChoiceField(
        label="Ranked",
        required=False,
        choices=[("", "Ranked or not"), ("yes", "Ranked"), ("no", "Not yet ranked")],
        coerce=lambda value: value == "yes",
        empty_value=None,
        error_messages={"invalid_choice": "“%(value)s” is not a choice for ranked: use yes or no."},
    )
    type = forms.RegexField(
        label="Type",
        required=False,
        regex=r"^[a-z-]{1,50}$",
        error_messages={"invalid": "The type must be an OpenAlex work type, such as dataset or article."},
    )
    subfield = forms.IntegerField(
        label="Subfield",
        required=False,
        min_value=1,
        error_messages={
            "invalid": "The subfield must be given by its OpenAlex number, such as 1908 for Geophysics.",
            "min_value": "The subfield must be given by its OpenAlex number, such as 1908 for Geophysics.",
        },
    )

    FILTERS = ("year_from", "year_to", "tier", "ranked", "type", "subfield")

    def clean_sort(self) -> str:
        # A link without `sort` means the default order, not an error.
        return self.cleaned_data["sort"] or Sort.RELEVANCE

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("year_from"), cleaned.get("year_to")
        if start is not None and end is not None and start > end:
            raise forms.ValidationError(f"The year range starts in {start}, after it ends in {end}.")
        return cleaned

    def first_error(self) -> str:
        # ErrorList hands out its messages as text; str() resolves a lazy one.
        return str(next(iter(self.errors.values()))[0])

    @property
    def filtered(self) -> bool:
        return any(value not in (None, "") for value in self.filters().values())

    def filters(self) -> dict:
        """The filters chosen, as SearchEntryQuerySet.narrowed takes them."""
        return {name: self.cleaned_data[name] for name in self.FILTERS}

    def query_string(self, **changes: object) -> str:
        """The search as a clean query string: the fields given, without empty ones or the
        default sort, so a pushed or shared URL carries only what the visitor chose; `changes`
        set fields (None clears one), as a facet's link does."""
        values = {name: self.cleaned_data[name] for name in ("q", "sort", *self.FILTERS)}
        values.update(changes)
        if values["sort"] == Sort.RELEVANCE:
            values["sort"] = None
        if isinstance(values["ranked"], bool):
            values["ranked"] = "yes" if values["ranked"] else "no"
        return urlencode({name: value for name, value in values.items() if value not in (None, "")})

    def url(self, **changes: object) -> str:
        return f"{self.path}?{self.query_string(**changes)}"

    @cached_property
    def path(self) -> str:
        # Reversed once: the facets link every option, some twenty links a page.
        return reverse("search")


class Subfield(NamedTuple):
    """An OpenAlex subfield the ranking can be narrowed to, with how many ranked papers it has."""

    id: int
    name: str
    papers: int


def ranked_subfields(run: ScoringRun) -> list[Subfield]:
    """The subfields of the run's ranked papers, by name, as the run counted them when published."""
    subfields = [Subfield(number, name, papers) for number, name, papers in run.figures.get("subfields", ())]
    return sorted(subfields, key=lambda subfield: (subfield.name.casefold(), subfield.id))


class RankingForm(forms.Form):
    """The ranking's filters: a tier, and a cohort-like slice of subfield and publication years.

    `subfields` are the ones the select offers (ranked_subfields); a subfield id that is not
    among them is still a valid filter, one that no ranked paper of the run matches."""

    tier = tier_field()
    subfield = forms.IntegerField(
        label="Subfield",
        required=False,
        min_value=1,
        error_messages={
            "invalid": "The subfield must be given by its OpenAlex number, such as 1908 for Geophysics.",
            "min_value": "The subfield must be given by its OpenAlex number, such as 1908 for Geophysics.",
        },
    )
    year_from = year_field("From year")
    year_to = year_field("To year")

    def __init__(self, *args, subfields: Sequence[Subfield] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subfields = list(subfields)

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("year_from"), cleaned.get("year_to")
        if start is not None and end is not None and start > end:
            raise forms.ValidationError(f"The year range starts in {start}, after it ends in {end}.")
        return cleaned

    def first_error(self) -> str:
        # ErrorList hands out its messages as text; str() resolves a lazy one.
        return str(next(iter(self.errors.values()))[0])

    @property
    def filtered(self) -> bool:
        return any(self.cleaned_data[name] is not None for name in ("tier", "subfield", "year_from", "year_to"))

    @property
    def subfield_name(self) -> str:
        chosen = self.cleaned_data["subfield"]
        if chosen is None:
            return ""
        return next((subfield.name for subfield in self.subfields if subfield.id == chosen), f"subfield {chosen}")

    def subfield_options(self) -> list[tuple[str, str, bool]]:
        """(value, label, selected) for the select; a chosen subfield no ranked paper has is
        offered too, so that the select shows what the list is filtered by."""
        chosen = self.cleaned_data["subfield"]
        options = [("", "All subfields", chosen is None)]
        options += [(str(s.id), f"{s.name} ({s.papers:,})", s.id == chosen) for s in self.subfields]
        if chosen is not None and all(s.id != chosen for s in self.subfields):
            options.append((str(chosen), f"Subfield {chosen} (none ranked)", True))
        return options

    def years(self) -> str:
        start, end = self.cleaned_data["year_from"], self.cleaned_data["year_to"]
        if start is not None and end is not None:
            return str(start) if start == end else f"{start}\u2013{end}"
        if start is not None:
            return f"from {start} on"
        if end is not None:
            return f"up to {end}"
        return ""

    def description(self) -> str:
        """What the filters select, as a noun phrase: "tier S2 papers of Geophysics, 2019-2021"
        (an en dash between the years); empty when nothing is filtered."""
        if not self.filtered:
            return ""
        tier, subfield, years = self.cleaned_data["tier"], self.subfield_name, self.years()
        phrase = f"tier S{tier} papers" if tier is not None else "papers"
        if subfield:
            return f"{phrase} of {subfield}, {years}" if years else f"{phrase} of {subfield}"
        if years:
            start, end = self.cleaned_data["year_from"], self.cleaned_data["year_to"]
            return f"{phrase} published in {years}" if start == end else f"{phrase} published {years}"
        return phrase

    def title(self) -> str:
        """The filters for the page title: "Tier S2, Geophysics, 2019-2021"."""
        parts = [
            f"Tier S{self.cleaned_data['tier']}" if self.cleaned_data["tier"] is not None else "",
            self.subfield_name,
            self.years(),
        ]
        return ", ".join(part for part in parts if part)

    def query_string(self, *, page: int = 1) -> str:
        """The filters as a clean query string, with the page past the first: what a pushed URL
        and the paging links carry, without the empty fields the form sent."""
        values = {name: self.cleaned_data[name] for name in ("tier", "subfield", "year_from", "year_to")}
        values["page"] = page if page > 1 else None
        return urlencode({name: value for name, value in values.items() if value is not None})

    def url(self, *, page: int = 1) -> str:
        query = self.query_string(page=page)
        return reverse("ranking") + (f"?{query}" if query else "")
