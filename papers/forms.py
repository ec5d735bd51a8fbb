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
