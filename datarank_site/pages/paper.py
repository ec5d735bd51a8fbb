"""What the paper page shows beyond the paper's own row: its citers with their share of the
score, the citation graph, where it sits in the corpus's distribution and its score history.
Each piece costs a fixed number of queries however many citers the paper has; the graph and
the distribution are cached, the graph per paper, run and citer set, the distribution per run."""

import dataclasses
import hashlib
import math
from dataclasses import dataclass

from django import forms
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count, FloatField, IntegerField, Max, Min
from django.db.models.functions import Cast, Floor
from django.forms.models import model_to_dict
from django.http import QueryDict

from datarank_site.pages.graph import Bins, Node, Role, citation_graph
from datarank_site.pages.templatetags.titles import title_text
from papers.models import Citation, Work
from scoring.datarank import base_contribution, citer_contribution
from scoring.models import PaperScore, ScoredWork, ScoringRun

CITER_PAGE_SIZE = 25
HISTOGRAM_BINS = 40
# Both cached values are fixed once their run has finished; the timeout only bounds memory.
CACHE_SECONDS = 7 * 24 * 3600


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


@dataclass(frozen=True, slots=True)
class Split:
    """A score taken apart as the page explains it."""

    base_percent: float
    """The base contribution's share of the DataRank, in percent; the network has the rest."""
    b: float
    """B(p) = ln(1 + C_p), as the run computed it (the base contribution before damping)."""
    n: float
    """N(p) = Σ ln(1 + C_q) / max(R_q, 1) (the network contribution before damping)."""

    @property
    def network_percent(self) -> float:
        return 100 - self.base_percent


def score_split(work: Work, citers: Citers, *, damping: float) -> Split:
    """For a scored `work`. B and N come from the run's figures; only a damping of exactly 0 or 1,
    which zeroes one of them, makes them fall back on today's count and citers."""
    total = work.base_contribution + work.network_contribution
    return Split(
        base_percent=100 * work.base_contribution / total if total else 0.0,
        b=work.base_contribution / (1 - damping) if damping < 1 else math.log1p(work.cited_by_count),
        n=work.network_contribution / damping if damping > 0 else math.fsum(row.term for row in citers.kept),
    )


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


def _row(citer: Work, *, position: int, term: float, network: float, damping: float) -> CiterRow:
    scored = citer.datarank is not None
    return CiterRow(
        work=citer,
        position=position,
        term=term,
        contribution=damping * term,
        share=100 * damping * term / network if network else 0.0,
        datarank=citer.datarank if scored else base_contribution(citer.cited_by_count, damping=damping),
        base_only=not scored,
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
    key = keys[column]
    # Rows come in cap order and sort() keeps equal keys in input order, reversed or not.
    present = sorted((row for row in rows if key(row) is not None), key=key, reverse=not ascending)
    return present + [row for row in rows if key(row) is None]


def graph_for(*, work: Work, citers: Citers, run_id: int | None) -> dict:
    """The citation graph's payload, cached per paper, run and set of citers: one query over
    the citation links among the nodes when it is not cached."""
    nodes = [
        *(_node(row.work, _role(row.work)) for row in citers.kept),
        *(_node(citer, Role.SELF) for citer in citers.excluded),
    ]
    # Cap order over kept and excluded together, as the layout places them.
    nodes.sort(key=lambda node: (-node.citations, node.id))
    digest = hashlib.sha256(",".join(f"{n.id}:{n.role}" for n in nodes).encode()).hexdigest()[:24]
    key = f"paper-graph:v1:{work.id}:{run_id}:{digest}"
    graph = cache.get(key)
    if graph is None:
        ids = [work.id, *(node.id for node in nodes)]
        links = Citation.objects.filter(citing_id__in=ids, cited_id__in=ids).values_list("citing_id", "cited_id")
        graph = citation_graph(_node(work, Role.PAPER), nodes, links)
        cache.set(key, graph, CACHE_SECONDS)
    return graph


def _node(work: Work, role: str) -> Node:
    return Node(work.id, title_text(work.title), work.publication_year, work.cited_by_count, role)


def _role(citer: Work) -> str:
    entry = getattr(citer, "corpus_entry", None)
    return Role.CORPUS if entry is not None and entry.in_corpus else Role.CITER


def distribution(*, run: ScoringRun) -> dict | None:
    """The run's DataRank histogram (bin centres, width and counts), or None for a run that
    scored nothing. Two aggregate queries the first time, served from the cache after: the
    run never changes once it has finished."""
    # The finish time too: ids can come round again after a database is reset.
    key = f"datarank-histogram:v1:{run.id}:{run.finished_at:%Y%m%d%H%M%S%f}"
    histogram = cache.get(key)
    if histogram is None:
        scores = PaperScore.objects.filter(run_id=run.id)
        bounds = scores.aggregate(low=Min("datarank"), high=Max("datarank"))
        if bounds["low"] is None:
            return None
        bins = Bins(bounds["low"], bounds["high"], HISTOGRAM_BINS)
        bucket = Cast(Floor((Cast("datarank", FloatField()) - bins.low) / bins.width), IntegerField())
        counts = scores.annotate(bucket=bucket).values("bucket").annotate(n=Count("id")).values_list("bucket", "n")
        histogram = {
            "low": bins.low,
            "high": bins.high,
            "width": bins.width,
            "x": bins.centres(),
            "y": bins.counts(counts),
        }
        cache.set(key, histogram, CACHE_SECONDS)
    return histogram


def history(*, work_id: int) -> list[PaperScore]:
    return list(PaperScore.objects.history(work_id))


def as_data(value):
    """Model rows, dataclasses and containers as plain JSON-ready values, for the page's JSON."""
    if isinstance(value, models.Model):
        return {name: as_data(field) for name, field in model_to_dict(value).items() if name != "work"}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return as_data(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(name): as_data(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_data(item) for item in value]
    return value
