"""A paper's citers as its page shows them: the capped citers with their share of the score,
split into the kept ones and the self-citations, and the sortable, paged citer table."""

import math
from dataclasses import dataclass

from django import forms
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import QueryDict

from datarank_site.pages.templatetags.titles import title_text
from papers.models import Work
from scoring.datarank import base_contribution, citer_contribution
from scoring.models import ScoredWork

CITER_PAGE_SIZE = 25


class CiterSort(models.TextChoices):
    """The citer table's columns, in the order they are shown."""

    TITLE = "title", "Citing work"
    YEAR = "year", "Year"
    CITATIONS = "citations", "Citations"
    REFERENCES = "references", "References"
    DATARANK = "datarank", "DataRank"
    CONTRIBUTION = "contribution", "Adds to DataRank"


class CiterTableForm(forms.Form):
    """The citer table's sort and page; anything unreadable falls back to the default view
    rather than an error, since these come from links, not from typing."""

    sort = forms.ChoiceField(choices=CiterSort.choices, required=False)
    asc = forms.BooleanField(required=False)
    page = forms.CharField(required=False, max_length=20)

    def view(self) -> tuple[str, bool, str]:
        """(column, ascending, page) to show."""
        if not self.is_valid():
            return CiterSort.CONTRIBUTION, False, "1"
        data = self.cleaned_data
        return data["sort"] or CiterSort.CONTRIBUTION, data["asc"], data["page"] or "1"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    aria_sort: str
    """"ascending", "descending" or "none", for the header cell."""
    next_asc: str | None
    """The `asc` parameter of the header's link: a click on the sorted column flips it."""


@dataclass(frozen=True, slots=True)
class CiterTable:
    page: Page
    columns: list[Column]
    sort: str
    ascending: bool


def citer_table(rows: list["CiterRow"], query: QueryDict) -> CiterTable:
    """The page of the citer table the query asks for, sorted as it asks."""
    column, ascending, page_number = CiterTableForm(query).view()
    columns = []
    for choice in CiterSort:
        current = choice == column
        # Text reads best A→Z first; numbers biggest first.
        first_asc = choice == CiterSort.TITLE
        next_asc = (not ascending) if current else first_asc
        state = ("ascending" if ascending else "descending") if current else "none"
        columns.append(Column(choice.value, choice.label, state, "1" if next_asc else None))
    ordered = sort_rows(rows, column, ascending=ascending)
    return CiterTable(Paginator(ordered, CITER_PAGE_SIZE).get_page(page_number), columns, column, ascending)


@dataclass(frozen=True, slots=True)
class CiterRow:
    """A kept citer: `term` is its ln(1 + C_q) / max(R_q, 1), `contribution` the d·term it adds
    to the paper's DataRank, `share` that contribution's percentage of the network contribution."""

    work: Work
    position: int
    term: float
    contribution: float
    share: float
    datarank: float
    """Its own DataRank in the run, or its base-only value when the run did not score it."""
    base_only: bool


@dataclass(frozen=True, slots=True)
class Citers:
    kept: list[CiterRow]
    """In cap order, the order the score adds them up in."""
    excluded: list[Work]
    """Self-citations among the capped citers, left out of the score."""
    network_contribution: float
    """d·Σ terms over `kept`, summed as scoring.datarank sums them."""

    @property
    def held(self) -> int:
        """Citers within the cap, counted or not."""
        return len(self.kept) + len(self.excluded)


def load_citers(*, work_id: int, run_id: int | None, cap: int, damping: float) -> Citers:
    """The paper's capped citers with their DataRank in run `run_id` and their corpus entry, in
    one query, split into the kept ones and the self-citations."""
    capped = list(
        ScoredWork.objects.capped_citers_of(work_id, cap=cap).select_related("corpus_entry").with_score(run_id)
    )
    kept = [citer for citer in capped if not citer.self_citation]
    terms = [citer_contribution(c.cited_by_count, c.referenced_works_count) for c in kept]
    network = damping * math.fsum(terms)
    rows = [
        _row(citer, position=position, term=term, network=network, damping=damping)
        for position, (citer, term) in enumerate(zip(kept, terms, strict=True), 1)
    ]
    return Citers(kept=rows, excluded=[c for c in capped if c.self_citation], network_contribution=network)


def _row(citer: ScoredWork, *, position: int, term: float, network: float, damping: float) -> CiterRow:
    own = citer.datarank
    return CiterRow(
        work=citer,
        position=position,
        term=term,
        contribution=damping * term,
        share=100 * damping * term / network if network else 0.0,
        datarank=own if own is not None else base_contribution(citer.cited_by_count, damping=damping),
        base_only=own is None,
    )


def sort_rows(rows: list[CiterRow], column: str, *, ascending: bool) -> list[CiterRow]:
    """Rows in the asked order; equal values keep cap order, and missing values go last."""
    keys = {
        CiterSort.CONTRIBUTION: lambda row: row.term,
        CiterSort.CITATIONS: lambda row: row.work.cited_by_count,
        CiterSort.REFERENCES: lambda row: row.work.referenced_works_count,
        CiterSort.YEAR: lambda row: row.work.publication_year,
        CiterSort.DATARANK: lambda row: row.datarank,
        CiterSort.TITLE: lambda row: title_text(row.work.title).casefold() or None,
    }
    key = keys[CiterSort(column)]
    # Rows come in cap order and sort() keeps equal keys in input order, reversed or not.
    present = sorted((row for row in rows if key(row) is not None), key=key, reverse=not ascending)
    return present + [row for row in rows if key(row) is None]
