from urllib.parse import urlencode

from django import forms
from django.db import models

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
        label="Search titles",
        required=False,
        strip=True,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": (
                f"A search can be at most {MAX_QUERY_LENGTH} characters long "
                "(yours has %(show_value)d). Try a few distinctive words from the title."
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

    def clean_sort(self) -> str:
        # A link without `sort` means the default order, not an error.
        return self.cleaned_data["sort"] or Sort.RELEVANCE

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("year_from"), cleaned.get("year_to")
        if start is not None and end is not None and start > end:
            raise forms.ValidationError(f"The year range starts in {start}, after it ends in {end}.")
        return cleaned

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]

    def query_string(self) -> str:
        """The search as a clean query string: the fields given, without empty ones or the
        default sort, so a pushed or shared URL carries only what the visitor chose."""
        values = {name: self.cleaned_data[name] for name in ("q", "sort", "year_from", "year_to", "tier")}
        if values["sort"] == Sort.RELEVANCE:
            values["sort"] = None
        return urlencode({name: value for name, value in values.items() if value not in (None, "")})


class RankingForm(forms.Form):
    tier = tier_field()

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]
