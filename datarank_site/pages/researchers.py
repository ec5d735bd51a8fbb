"""The researcher and institution pages (DESIGN.md §4), their JSON twins and their ranked lists.

A researcher is an OpenAlex author id. Their corpus papers are the ones
Authorship.objects.credited_to gives (their own authorships and those of the ids merged into them,
less the ones an editor found not theirs); an institution's are the corpus papers any authorship
lists it on, each once. The three scores come from the current run's ResearcherScore or
InstitutionScore row.

find_researcher and find_institution look the subject up (or raise: a redirect to the canonical
or surviving id, or a 404 that says why); RollUpPage holds what a page and its data.json share and
builds each one's extras. A page takes the same number of queries however many papers it has: the
papers per year, one page of the paper table, the chart's points (the best CHART_POINTS), and the
people around them, each one aggregate or one slice."""

import html
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, reduce
from typing import Literal
from urllib.parse import urlencode, urljoin

from django import forms
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection, models
from django.db.models import Count, Exists, F, FilteredRelation, Func, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers

from datarank_site.pages.corrections import editor_corrections
from datarank_site.pages.errors import NotFound, Redirect
from datarank_site.pages.http import HtmxHttpRequest
from datarank_site.pages.pagination import UncountedPage
from datarank_site.pages.templatetags.titles import title_text
from papers.models import Affiliation, Author, AuthorMerge, Authorship, Correction, Institution
from papers.search import CORRECTED, SearchPlan, forms_in
from scoring.datarank import format_score, format_top_percent
from scoring.models import FairEvaluation, InstitutionScore, ResearcherScore, ScoredWork, ScoredWorkQuerySet, ScoringRun

# OpenAlex ids are 64-bit integers in the database; anything larger names nobody.
MAX_ID = 2**63 - 1
PAPERS_PAGE_SIZE = 25
LIST_PAGE_SIZE = 50
CO_AUTHORS = 10
INSTITUTION_PEOPLE = 20
# The chart draws a researcher's best papers, all of them for nearly everyone; an institution can
# have tens of thousands, which would make the page megabytes of points nobody can tell apart.
CHART_POINTS = 1_000
CHART_TITLE_LENGTH = 90
SEARCH_RESEARCHERS = 5
# A name at most this many papers and authors hold is looked up among every researcher; a
# commoner one among the authors of the search's first RESEARCHER_PAPERS (matching_researchers).
NAMED_AUTHORS = 500
RESEARCHER_PAPERS = 100
# The lists' filter options are fixed once their run has finished; the timeout only bounds memory.
CACHE_SECONDS = 7 * 24 * 3600
# What the paper table and the JSON twin read of a work; the long fields stay behind.
ROW_FIELDS = ("id", "title", "publication_year", "venue", "cited_by_count", "primary_topic", "subfield_id")

Subject = Literal["researcher", "institution"]


@dataclass(frozen=True, slots=True)
class Definition:
    key: str
    name: str
    text: str
    whose: str


def definitions(subject: Subject) -> tuple[Definition, ...]:
    """The three scores of DESIGN.md §4, each with its one-line definition and whose it is."""
    their = "their" if subject == "researcher" else "its"
    return (
        Definition(
            "researcher_score",
            "Researcher score",
            f"The mean of {their} 10 best DataRanks, a missing paper counting 0 (the sum of the 10 best ÷ 10), "
            "so one lucky paper does not top the list.",
            "theSindex\u2019s definition",
        ),
        Definition(
            "sum_score",
            "Sum",
            f"Σ DataRank over all {their} corpus papers.",
            "Scholar Data\u2019s S-index, a sum of scores",
        ),
        Definition(
            "h_index",
            "Data h-index",
            f"The largest n such that n of {their} corpus papers have each been cited at least n times.",
            "CatalystNeuro\u2019s S-index, which is h-like",
        ),
    )


@dataclass(frozen=True, slots=True)
class ScoreCard:
    definition: Definition
    value: float | int
    shown: str
    """The value as the page shows it: a DataRank's rounding for the two sums of DataRanks."""


def score_cards(score: ResearcherScore | InstitutionScore, subject: Subject) -> list[ScoreCard]:
    values = {"researcher_score": score.researcher_score, "sum_score": score.sum_score, "h_index": score.h_index}
    shown = {
        "researcher_score": format_score(score.researcher_score),
        "sum_score": format_score(score.sum_score),
        "h_index": f"{score.h_index:,}",
    }
    return [ScoreCard(each, values[each.key], shown[each.key]) for each in definitions(subject)]


# --- Finding the subject ------------------------------------------------------------------


def parse_key(key: str, letter: str) -> int:
    """The number of an OpenAlex id such as `A123` (either case, as the URL allows)."""
    number = int(key[1:])
    if not 0 < number <= MAX_ID:
        raise NotFound(f"{key} is not a valid OpenAlex {'author' if letter == 'A' else 'institution'} id.")
    return number


def find_researcher(key: str, *, view: str) -> tuple[Author, ResearcherScore | None, ScoringRun | None]:
    """The author `key` names with their scores in the current run (four queries). A merged-away
    id redirects to the id it was merged into, `a123` to `A123`."""
    number = parse_key(key, "A")
    survivor = AuthorMerge.objects.survivor(number)
    if survivor is not None or key != f"A{number}":
        raise Redirect(reverse(view, kwargs={"key": f"A{survivor or number}"}), permanent=True)
    author = Author.objects.filter(id=number).first()
    if author is None:
        raise NotFound(f"We hold no researcher A{number}: no paper we hold names that OpenAlex author id.")
    run = ScoringRun.objects.current()
    score = ResearcherScore.objects.filter(run_id=run.id, author_id=number).first() if run else None
    return author, score, run


def find_institution(key: str, *, view: str) -> tuple[Institution, InstitutionScore | None, ScoringRun | None]:
    """The institution `key` names with its scores in the current run (three queries)."""
    number = parse_key(key, "I")
    if key != f"I{number}":
        raise Redirect(reverse(view, kwargs={"key": f"I{number}"}), permanent=True)
    institution = Institution.objects.filter(id=number).first()
    if institution is None:
        raise NotFound(f"We hold no institution I{number}: no paper we hold lists it.")
    run = ScoringRun.objects.current()
    score = InstitutionScore.objects.filter(run_id=run.id, institution_id=number).first() if run else None
    return institution, score, run


def credited_works(author_id: int) -> ScoredWorkQuerySet:
    """The corpus papers that count for the researcher, each once."""
    return ScoredWork.objects.in_corpus().filter(id__in=Authorship.objects.credited_to(author_id).values("work_id"))


def institution_works(institution_id: int) -> ScoredWorkQuerySet:
    """The corpus papers an authorship lists the institution on, each once."""
    listed = Affiliation.objects.filter(institution_id=institution_id).values("work_id")
    return ScoredWork.objects.in_corpus().filter(id__in=listed)


def survivor_of(field: str) -> Coalesce:
    """The surviving id of the author id in `field` (AuthorMerge is flat: one lookup resolves it)."""
    merged = AuthorMerge.objects.filter(old_id=OuterRef(field)).values("into_id")[:1]
    return Coalesce(Subquery(merged), F(field))


# --- What a page shows ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearRow:
    """The subject's corpus papers of one publication year (None: no year given)."""

    year: int | None
    papers: int
    ranked: int
    best: float | None
    """The best DataRank among them; None when the run scored none of them."""
    unidentified: int
    """Authorships on them without an OpenAlex author id."""


def year_rows(works: ScoredWorkQuerySet, run_id: int | None) -> list[YearRow]:
    """The papers per year, in one aggregate query: also how many papers there are at all."""
    rows = (
        works.with_score(run_id)
        .order_by()
        .values("publication_year")
        .annotate(
            papers=Count("id"),
            ranked=Count("id", filter=Q(rank__isnull=False)),
            best=Max("datarank"),
            unidentified=Sum("unidentified_authors"),
        )
    )
    shown = [
        YearRow(row["publication_year"], row["papers"], row["ranked"], row["best"], row["unidentified"] or 0)
        for row in rows
    ]
    return sorted(shown, key=lambda row: (row.year is None, row.year or 0))


@dataclass(frozen=True, slots=True)
class Standing:
    """Where the subject stands among the run's ranked researchers (or institutions)."""

    ranked: bool
    text: str
    """"top 3.0% of 1,234 ranked researchers (rank 37 of 1,234)", or why it is not ranked."""
    caveat: str


def counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def roll_up_standing(
    score: ResearcherScore | InstitutionScore | None, *, ranked: int, scored: int, subject: Subject
) -> Standing | None:
    """§1's rules at the researcher level: a score of 0 is not ranked, ties never flatter, and
    being first among equals says nothing. None when the run did not score the subject."""
    if score is None:
        return None
    if score.rank is None or score.top_percent is None:
        their = "their" if subject == "researcher" else "its"
        others = scored - ranked - 1
        share = (
            f"; {counted(others, f'other {subject}')} of the {scored:,} scored share that state"
            if others
            else f"; no other {subject} of the {scored:,} scored is in that state"
        )
        return Standing(
            ranked=False,
            text=f"Not ranked yet: none of {their} corpus papers has a citation with signal, "
            f"so {their} researcher score is 0{share}.",
            caveat="",
        )
    text = (
        f"top {format_top_percent(score.top_percent)} of {counted(ranked, f'ranked {subject}')} "
        f"(rank {score.rank:,} of {ranked:,})"
    )
    caveat = ""
    if score.rank == 1 and score.top_percent == 100:
        caveat = (
            f"It is the only ranked {subject}, so being first says nothing."
            if ranked == 1
            else f"All {ranked:,} ranked {subject}s score the same, so being first says nothing."
        )
    return Standing(ranked=True, text=text, caveat=caveat)


# The paper table


class PaperSort(models.TextChoices):
    """The paper table's sortable columns, in the order they are shown."""

    YEAR = "year", "Year"
    DATARANK = "datarank", "DataRank"
    RANK = "rank", "Rank"
    COHORT = "cohort", "Cohort"
    FAIR = "fair", "FAIR"


# Best first: the lowest rank and cohort percentage, the highest DataRank and FAIR score, the newest year.
ASCENDING_FIRST = frozenset({PaperSort.RANK, PaperSort.COHORT})
SORT_FIELDS = {
    PaperSort.YEAR: "publication_year",
    PaperSort.DATARANK: "datarank",
    PaperSort.RANK: "rank",
    PaperSort.COHORT: "cohort_top_percent",
    PaperSort.FAIR: "fair_raw",
}


class PaperTableForm(forms.Form):
    """The paper table's sort, direction and page; anything unreadable falls back to the default
    view rather than an error, since these come from links, not from typing."""

    sort = forms.ChoiceField(choices=PaperSort.choices, required=False)
    dir = forms.ChoiceField(choices=[("asc", "asc"), ("desc", "desc")], required=False)
    page = forms.CharField(required=False, max_length=20)

    def view(self) -> tuple[str, bool, str]:
        """(column, ascending, page) to show."""
        if not self.is_valid():
            return PaperSort.DATARANK, False, "1"
        data = self.cleaned_data
        column = data["sort"] or PaperSort.DATARANK
        ascending = data["dir"] == "asc" if data["dir"] else column in ASCENDING_FIRST
        return column, ascending, data["page"] or "1"


@dataclass(frozen=True, slots=True)
class SortColumn:
    key: str
    label: str
    aria_sort: str
    """"ascending", "descending" or "none", for the header cell."""
    link_dir: str | None
    """The `dir` of the header's link: a click on the sorted column flips it, on another one
    sorts it best first."""


def sort_columns(column: str, ascending: bool) -> list[SortColumn]:
    columns = []
    for choice in PaperSort:
        if choice == column:
            state, link = ("ascending", "desc") if ascending else ("descending", "asc")
        else:
            state, link = "none", None
        columns.append(SortColumn(choice.value, choice.label, state, link))
    return columns


@dataclass(frozen=True, slots=True)
class PaperRow:
    work: ScoredWork
    fair_raw: float | None
    """The raw FAIR score of its current evaluation, None without one."""
    fair: float | None
    """The calibrated FAIR score of its current evaluation, None without one."""
    fair_provisional: bool


@dataclass(frozen=True, slots=True)
class PaperTable:
    page: Page
    columns: list[SortColumn]
    sort: str
    ascending: bool

    @property
    def sort_label(self) -> str:
        return PaperSort(self.sort).label


class KnownCountPaginator(Paginator):
    """A paginator told its count, which the papers per year have given already."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _count(queryset: QuerySet) -> Subquery:
    # A bare COUNT: a Func rather than an aggregate, so the subquery has no GROUP BY.
    return Subquery(queryset.order_by().annotate(n=Func(F("id"), function="COUNT")).values("n")[:1])


def with_fair(works: ScoredWorkQuerySet) -> ScoredWorkQuerySet:
    """Each work with its current FAIR evaluation's raw score, whether it is provisional, and
    what calibrates it (scoring.fair.calibration): how many complete current evaluations score at
    most as much, and how many there are. All in the works' own query."""
    evaluation = FairEvaluation.objects.current().filter(work_id=OuterRef("id"))
    pool = FairEvaluation.objects.calibrating()
    return works.annotate(
        fair_raw=Subquery(evaluation.values("raw")[:1]),
        fair_provisional=Subquery(evaluation.values("provisional")[:1]),
    ).annotate(fair_at_or_below=_count(pool.filter(raw__lte=OuterRef("fair_raw"))), fair_pool=_count(pool))


def paper_row(work: ScoredWork) -> PaperRow:
    # The annotations with_fair puts on each work, which ScoredWork does not declare.
    raw, provisional, pool, at_or_below = (
        getattr(work, name) for name in ("fair_raw", "fair_provisional", "fair_pool", "fair_at_or_below")
    )
    calibrated = 100.0 * at_or_below / pool if raw is not None and pool else None
    return PaperRow(work=work, fair_raw=raw, fair=calibrated, fair_provisional=bool(provisional))


def scored_rows(works: ScoredWorkQuerySet, run_id: int | None) -> ScoredWorkQuerySet:
    return with_fair(works.only(*ROW_FIELDS).with_score(run_id))


def paper_table(works: ScoredWorkQuerySet, run_id: int | None, query: QueryDict, *, count: int) -> PaperTable:
    """The page of the paper table the query asks for, sorted as it asks (one query)."""
    column, ascending, number = PaperTableForm(query).view()
    field = F(SORT_FIELDS[PaperSort(column)])
    order = field.asc(nulls_last=True) if ascending else field.desc(nulls_last=True)
    rows = scored_rows(works, run_id).order_by(order, F("datarank").desc(nulls_last=True), "id")
    page = KnownCountPaginator(rows, PAPERS_PAGE_SIZE, count=count).get_page(number)
    page.object_list = [paper_row(work) for work in page.object_list]
    return PaperTable(page=page, columns=sort_columns(column, ascending), sort=column, ascending=ascending)


def chart(works: ScoredWorkQuerySet, run_id: int | None, *, dated: int) -> dict:
    """The scatter of DataRank by publication year: the best CHART_POINTS scored papers with a
    year, each with its title for the hover and its page for a click (one query). `dated` is how
    many of the subject's papers have a year, drawn or not."""
    points = (
        works.with_score(run_id)
        .filter(Q(datarank__isnull=False), publication_year__isnull=False)
        .order_by(F("datarank").desc(), "id")
        .values_list("id", "title", "publication_year", F("datarank"), F("rank"))[:CHART_POINTS]
    )
    x, y, text, url, ranked = [], [], [], [], []
    for number, title, year, datarank, rank in points:
        shown = title_text(title) or "Untitled work"
        if len(shown) > CHART_TITLE_LENGTH:
            shown = shown[: CHART_TITLE_LENGTH - 1].rstrip() + "…"
        x.append(year)
        y.append(datarank)
        # plotly reads hover text as its own small markup: the title's <, > and & stay text.
        text.append(f"{html.escape(shown, quote=False)}<br>{year} · DataRank {format_score(datarank)}")
        url.append(reverse("paper", kwargs={"key": f"W{number}"}))
        ranked.append(rank is not None)
    return {"x": x, "y": y, "text": text, "url": url, "ranked": ranked, "dated": dated}


def fair_data(row: PaperRow) -> dict | None:
    if row.fair_raw is None:
        return None
    return {"raw": row.fair_raw, "calibrated": row.fair, "provisional": row.fair_provisional}


def paper_data(row: PaperRow, *, base_url: str) -> dict:
    work = row.work
    topic = work.primary_topic or {}
    return {
        "openalex_id": work.openalex_id,
        "title": title_text(work.title),
        "publication_year": work.publication_year,
        "venue": work.venue or None,
        "cited_by_count": work.cited_by_count,
        "subfield": (topic.get("subfield") or {}).get("name") or None,
        "datarank": work.datarank,
        "rank": work.rank,
        "top_percent": work.top_percent,
        "cohort_size": work.cohort_size,
        "cohort_top_percent": work.cohort_top_percent,
        "fair": fair_data(row),
        "url": urljoin(base_url, reverse("paper", kwargs={"key": work.openalex_id})),
    }


# The people around a subject


@dataclass(frozen=True, slots=True)
class Person:
    """Someone beside the subject: a co-author, or a researcher of an institution."""

    author: Author
    papers: int
    """The corpus papers they share with the subject."""

    @property
    def openalex_id(self) -> str:
        return f"A{self.author.id}"

    @property
    def researcher_score(self) -> float | None:
        return getattr(self.author, "researcher_score", None)

    @property
    def rank(self) -> int | None:
        return getattr(self.author, "rank", None)


def people(rows: Sequence[tuple[int, int]], run_id: int | None) -> list[Person]:
    """(author id, papers) in order, as Persons with their names and researcher scores (one query)."""
    ids = [author_id for author_id, _ in rows]
    authors = Author.objects.filter(id__in=ids).annotate(
        current=FilteredRelation("scores", condition=Q(scores__run_id=run_id)),
        researcher_score=F("current__researcher_score"),
        rank=F("current__rank"),
    )
    found = {author.id: author for author in authors}
    # A merge recorded for someone whose own record has not arrived names an id with no row yet.
    return [Person(found[author_id], papers) for author_id, papers in rows if author_id in found]


def co_authors(author_id: int, run_id: int | None) -> list[Person]:
    """The other researchers sharing most of the researcher's corpus papers, each under their
    surviving id and counted as the roll-up counts them (two queries)."""
    works = credited_works(author_id).values("id")
    not_theirs = Correction.objects.filter(
        Q(author_id=OuterRef("author_id")) | Q(author_id=OuterRef("person")),
        kind=Correction.Kind.NOT_THEIRS,
        status=Correction.Status.ACCEPTED,
        work_id=OuterRef("work_id"),
    )
    shared = (
        Authorship.objects.filter(work_id__in=works)
        .annotate(person=survivor_of("author_id"))
        .exclude(person=author_id)
        .exclude(Exists(not_theirs))
        .values("person")
        .annotate(papers=Count("work_id", distinct=True))
        .order_by("-papers", "person")
        .values_list("person", "papers")[:CO_AUTHORS]
    )
    return people(list(shared), run_id)


def institution_people(institution_id: int, run_id: int | None) -> list[Person]:
    """The researchers with most corpus papers listing the institution (two queries)."""
    there = (
        Affiliation.objects.filter(institution_id=institution_id, work__corpus_entry__in_corpus=True)
        .annotate(person=survivor_of("author_id"))
        .values("person")
        .annotate(papers=Count("work_id", distinct=True))
        .order_by("-papers", "person")
        .values_list("person", "papers")[:INSTITUTION_PEOPLE]
    )
    return people(list(there), run_id)


@dataclass(frozen=True, slots=True)
class InstitutionSpan:
    """An institution a researcher's corpus papers list them at, and over which years."""

    institution: Institution
    first: int | None
    last: int | None
    papers: int

    @property
    def years(self) -> str:
        if self.first is None or self.last is None:
            return "year unknown"
        return str(self.first) if self.first == self.last else f"{self.first}\N{EN DASH}{self.last}"


def institutions_over_time(author_id: int) -> list[InstitutionSpan]:
    """The institutions of the researcher's credited authorships on corpus papers, latest first
    (one query)."""
    credited = Authorship.objects.credited_to(author_id).filter(
        work_id=OuterRef("work_id"), author_id=OuterRef("author_id")
    )
    rows = (
        Affiliation.objects.filter(Exists(credited), work__corpus_entry__in_corpus=True)
        .values("institution_id", "institution__display_name", "institution__country_code")
        .annotate(
            first=Min("work__publication_year"),
            last=Max("work__publication_year"),
            papers=Count("work_id", distinct=True),
        )
        .order_by(F("last").desc(nulls_last=True), F("first").desc(nulls_last=True), "institution_id")
    )
    return [
        InstitutionSpan(
            Institution(
                id=row["institution_id"],
                display_name=row["institution__display_name"],
                country_code=row["institution__country_code"],
            ),
            row["first"],
            row["last"],
            row["papers"],
        )
        for row in rows
    ]


# The pages


@dataclass(frozen=True)
class RollUpPage:
    """What a researcher or institution page and its data.json share."""

    subject: Subject
    openalex_id: str
    name: str
    score: ResearcherScore | InstitutionScore | None
    run: ScoringRun | None
    works: ScoredWorkQuerySet
    years: list[YearRow]

    @property
    def run_id(self) -> int | None:
        return self.run.id if self.run else None

    @property
    def papers(self) -> int:
        return sum(row.papers for row in self.years)

    @property
    def unidentified(self) -> int:
        return sum(row.unidentified for row in self.years)

    @property
    def dated(self) -> int:
        return sum(row.papers for row in self.years if row.year is not None)

    @property
    def ranked_total(self) -> int:
        """How many the run ranked: researchers or institutions."""
        if self.run is None:
            return 0
        return self.run.researchers_ranked if self.subject == "researcher" else self.run.institutions_ranked

    @property
    def scored_total(self) -> int:
        if self.run is None:
            return 0
        return self.run.researchers_scored if self.subject == "researcher" else self.run.institutions_scored

    def standing(self) -> Standing | None:
        return roll_up_standing(self.score, ranked=self.ranked_total, scored=self.scored_total, subject=self.subject)

    def table_context(self, query: QueryDict) -> dict:
        """What the paper table needs: all an htmx request for a sorted or paged table gets."""
        return {
            "profile": self,
            "run": self.run,
            "table": paper_table(self.works, self.run_id, query, count=self.papers),
        }

    def context(self, query: QueryDict) -> dict:
        """Everything the page shows (its own extras come from the subclass)."""
        return {
            **self.table_context(query),
            "score": self.score,
            "standing": self.standing(),
            "cards": score_cards(self.score, self.subject) if self.score else [],
            "chart": chart(self.works, self.run_id, dated=self.dated),
        }

    def data(self, *, url: str) -> dict:
        """The page's figures as data.json gives them: every paper, not a page of them."""
        run, score, standing = self.run, self.score, self.standing()
        rows = scored_rows(self.works, self.run_id).order_by(F("datarank").desc(nulls_last=True), "id")
        return {
            "run": None
            if run is None
            else {
                "id": run.id,
                "algorithm": run.algorithm,
                "finished_at": run.finished_at,
                "data_as_of": run.data_as_of,
            },
            "definitions": [
                {"key": d.key, "name": d.name, "definition": d.text, "whose": d.whose}
                for d in definitions(self.subject)
            ],
            "scores": None
            if score is None
            else {
                "researcher_score": score.researcher_score,
                "sum_score": score.sum_score,
                "h_index": score.h_index,
                "papers": score.papers,
                "ranked_papers": score.ranked_papers,
                "rank": score.rank,
                "top_percent": score.top_percent,
            },
            "display": None
            if score is None
            else {
                "researcher_score": format_score(score.researcher_score),
                "sum_score": format_score(score.sum_score),
                "top_percent": None if score.top_percent is None else f"top {format_top_percent(score.top_percent)}",
            },
            "standing": None
            if standing is None
            else {
                "ranked": standing.ranked,
                "text": standing.text,
                "caveat": standing.caveat or None,
                f"ranked_{self.subject}s": self.ranked_total,
                f"scored_{self.subject}s": self.scored_total,
            },
            "corpus_papers": self.papers,
            "unidentified_authorships": self.unidentified,
            "papers_by_year": [
                {"year": row.year, "papers": row.papers, "ranked": row.ranked, "best_datarank": row.best}
                for row in self.years
            ],
            "papers": [paper_data(paper_row(work), base_url=url) for work in rows],
        }


def person_data(person: Person, *, base_url: str) -> dict:
    return {
        "openalex_id": person.openalex_id,
        "display_name": person.author.display_name,
        "shared_papers": person.papers,
        "researcher_score": person.researcher_score,
        "rank": person.rank,
        "url": urljoin(base_url, reverse("researcher", kwargs={"key": person.openalex_id})),
    }


@dataclass(frozen=True)
class ResearcherPage(RollUpPage):
    author: Author

    @classmethod
    def build(cls, key: str, *, view: str = "researcher") -> "ResearcherPage":
        author, score, run = find_researcher(key, view=view)
        works = credited_works(author.id)
        years = year_rows(works, run.id if run else None)
        name = author.display_name or f"A{author.id}"
        if not years:
            # Nothing to show or score: held as an author of citers only, or every paper taken away.
            raise NotFound(
                f"{name} (A{author.id}) has no paper in the data-sharing corpus, so DataRank has no profile of them."
            )
        return cls("researcher", f"A{author.id}", name, score, run, works, years, author)

    @property
    def orcid(self) -> str:
        """The bare ORCID iD of the stored URL."""
        return self.author.orcid.rstrip("/").rsplit("/", 1)[-1]

    def main_subfield(self) -> tuple[int, str] | None:
        """The subfield most of their corpus papers belong to, as the run found it (one query)."""
        subfield = getattr(self.score, "subfield_id", None)
        if subfield is None:
            return None
        names = self.works.filter(subfield_id=subfield).values_list(KT("primary_topic__subfield__name"), flat=True)
        return subfield, names.first() or f"Subfield {subfield}"

    def context(self, query: QueryDict) -> dict:
        return {
            **super().context(query),
            "author": self.author,
            "main_subfield": self.main_subfield(),
            "institutions": institutions_over_time(self.author.id),
            "co_authors": co_authors(self.author.id, self.run_id),
            "corrections": editor_corrections(self.author.id),
        }

    def data(self, *, url: str) -> dict:
        subfield = self.main_subfield()
        return {
            "researcher": {
                "openalex_id": self.openalex_id,
                "display_name": self.author.display_name,
                "orcid": self.author.orcid or None,
                "main_subfield": None if subfield is None else {"id": subfield[0], "name": subfield[1]},
                "openalex_url": f"https://openalex.org/{self.openalex_id}",
                "url": url,
            },
            **super().data(url=url),
            "institutions": [
                {
                    "openalex_id": span.institution.openalex_id,
                    "display_name": span.institution.display_name,
                    "country_code": span.institution.country_code or None,
                    "first_year": span.first,
                    "last_year": span.last,
                    "papers": span.papers,
                    "url": urljoin(url, reverse("institution", kwargs={"key": span.institution.openalex_id})),
                }
                for span in institutions_over_time(self.author.id)
            ],
            "co_authors": [person_data(person, base_url=url) for person in co_authors(self.author.id, self.run_id)],
            "editor_corrections": [
                {
                    "kind": correction.kind,
                    "decided_at": correction.decided_at,
                    "work": None if correction.work_id is None else f"W{correction.work_id}",
                    "merged_id": None if correction.merged_id is None else f"A{correction.merged_id}",
                }
                for correction in editor_corrections(self.author.id)
            ],
        }


@dataclass(frozen=True)
class InstitutionPage(RollUpPage):
    institution: Institution

    @classmethod
    def build(cls, key: str, *, view: str = "institution") -> "InstitutionPage":
        institution, score, run = find_institution(key, view=view)
        works = institution_works(institution.id)
        years = year_rows(works, run.id if run else None)
        name = institution.display_name or institution.openalex_id
        if not years:
            raise NotFound(
                f"{name} ({institution.openalex_id}) has no paper in the data-sharing corpus, "
                "so DataRank has no profile of it."
            )
        return cls("institution", institution.openalex_id, name, score, run, works, years, institution)

    @property
    def researchers(self) -> int | None:
        return getattr(self.score, "researchers", None)

    def context(self, query: QueryDict) -> dict:
        return {
            **super().context(query),
            "institution": self.institution,
            "people": institution_people(self.institution.id, self.run_id),
        }

    def data(self, *, url: str) -> dict:
        institution = self.institution
        return {
            "institution": {
                "openalex_id": institution.openalex_id,
                "display_name": institution.display_name,
                "country_code": institution.country_code or None,
                "type": institution.type or None,
                "ror": institution.ror or None,
                "researchers": self.researchers,
                "openalex_url": f"https://openalex.org/{institution.openalex_id}",
                "url": url,
            },
            **super().data(url=url),
            "top_researchers": [
                person_data(person, base_url=url) for person in institution_people(institution.id, self.run_id)
            ],
        }


# --- Views of the two pages ------------------------------------------------------------------


def page_response(request: HtmxHttpRequest, page: RollUpPage, template: str) -> HttpResponse:
    # An htmx request sorts or pages the paper table, which is all it gets.
    if request.htmx:
        return render(request, f"{template}#paper-table", page.table_context(request.GET))
    return render(request, template, page.context(request.GET))


def data_response(request: HtmxHttpRequest, page: RollUpPage, view: str) -> JsonResponse:
    url = request.build_absolute_uri(reverse(view, kwargs={"key": page.openalex_id}))
    response = JsonResponse(page.data(url=url), json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'inline; filename="{page.openalex_id}.json"'
    return response


@vary_on_headers("HX-Request")
def researcher(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """A researcher's page: their three scores, corpus papers, institutions and co-authors."""
    return page_response(request, ResearcherPage.build(key), "pages/researcher.html")


def researcher_data(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Everything the researcher page shows, as JSON."""
    return data_response(request, ResearcherPage.build(key, view="researcher_data"), "researcher")


@vary_on_headers("HX-Request")
def institution(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """An institution's page: its three scores over its papers, each once, and its researchers."""
    return page_response(request, InstitutionPage.build(key), "pages/institution.html")


def institution_data(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Everything the institution page shows, as JSON."""
    return data_response(request, InstitutionPage.build(key, view="institution_data"), "institution")


# --- The ranked lists ------------------------------------------------------------------------


class ListSort(models.TextChoices):
    SCORE = "score", "Researcher score"
    SUM = "sum", "Sum"
    H_INDEX = "h", "Data h-index"


# Each order is read off its index ((run, rank), (run, -sum_score), (run, -h_index)); ties go by
# the researcher score's rank, then the id, so that pages never repeat or skip anyone.
LIST_ORDERS = {ListSort.SCORE: ("rank",), ListSort.SUM: ("-sum_score", "rank"), ListSort.H_INDEX: ("-h_index", "rank")}


@dataclass(frozen=True, slots=True)
class Option:
    """A filter's choice, with how many ranked researchers (or institutions) it has."""

    value: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class ListRow:
    score: ResearcherScore | InstitutionScore
    subfield: str
    """A researcher's main subfield, by name; empty for an institution, or a researcher without one."""

    @property
    def url(self) -> str:
        if isinstance(self.score, ResearcherScore):
            return reverse("researcher", kwargs={"key": f"A{self.score.author_id}"})
        return reverse("institution", kwargs={"key": f"I{self.score.institution_id}"})


class RollUpListForm(forms.Form):
    """A ranked list's sort and filter; `filter_name` is the one filter field."""

    view_name = ""
    filter_name = ""
    # How a filter value no ranked row has is named: "Subfield 9999", "ZZ".
    unknown_format = "{}"
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=ListSort.choices,
        error_messages={"invalid_choice": "“%(value)s” is not a way to sort this list: use score, sum or h."},
    )

    def __init__(self, *args, options: Sequence[Option] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.options = list(options)

    def clean_sort(self) -> str:
        # A link without `sort` means the default order, not an error.
        return self.cleaned_data["sort"] or ListSort.SCORE

    def first_error(self) -> str:
        return str(next(iter(self.errors.values()))[0])

    @property
    def chosen(self) -> str:
        value = self.cleaned_data[self.filter_name]
        return "" if value is None else str(value)

    def chosen_option(self) -> Option | None:
        return next((option for option in self.options if option.value == self.chosen), None)

    def filter_options(self) -> list[tuple[str, str, bool]]:
        """(value, label, selected) for the filter's select; a choice none has is offered too,
        so that the select shows what the list is filtered by."""
        chosen = self.chosen
        shown = [
            (option.value, f"{option.label} ({option.count:,})", option.value == chosen) for option in self.options
        ]
        if chosen and self.chosen_option() is None:
            shown.append((chosen, f"{self.unknown_label(chosen)} (none ranked)", True))
        return shown

    def unknown_label(self, value: str) -> str:
        return self.unknown_format.format(value)

    def filter_label(self) -> str:
        """The chosen filter as the list's heading names it; empty when nothing is chosen."""
        chosen = self.chosen
        if not chosen:
            return ""
        option = self.chosen_option()
        return option.label if option else self.unknown_label(chosen)

    def query_string(self, *, page: int = 1, sort: str | None = None) -> str:
        values = {self.filter_name: self.chosen or None, "sort": sort or self.cleaned_data["sort"]}
        if values["sort"] == ListSort.SCORE:
            values["sort"] = None
        values["page"] = page if page > 1 else None
        return urlencode({name: value for name, value in values.items() if value is not None})

    def url(self, *, page: int = 1, sort: str | None = None) -> str:
        query = self.query_string(page=page, sort=sort)
        return reverse(self.view_name) + (f"?{query}" if query else "")

    @property
    def sort_label(self) -> str:
        return ListSort(self.cleaned_data["sort"]).label.lower()

    def sort_links(self) -> list[tuple[str, str, bool]]:
        """(label, url, current) of each sortable column's header link; every one starts at page 1."""
        return [(choice.label, self.url(sort=choice.value), choice == self.cleaned_data["sort"]) for choice in ListSort]


class ResearcherListForm(RollUpListForm):
    view_name = "researchers"
    filter_name = "subfield"
    unknown_format = "Subfield {}"
    subfield = forms.IntegerField(
        label="Main subfield",
        required=False,
        min_value=1,
        error_messages={
            "invalid": "The subfield must be given by its OpenAlex number, such as 1908 for Geophysics.",
            "min_value": "The subfield must be given by its OpenAlex number, such as 1908 for Geophysics.",
        },
    )


class InstitutionListForm(RollUpListForm):
    view_name = "institutions"
    filter_name = "country"
    country = forms.RegexField(
        label="Country",
        required=False,
        regex=r"^[A-Za-z]{2}$",
        error_messages={"invalid": "The country must be given by its two-letter ISO code, such as DE or BR."},
    )

    def clean_country(self) -> str | None:
        return self.cleaned_data["country"].upper() or None


def _cached_options(run: ScoringRun, name: str, read) -> list[Option]:
    # The finish time too: ids can come round again after a database is reset.
    key = f"{name}:v1:{run.id}:{run.finished_at:%Y%m%d%H%M%S%f}"
    options = cache.get(key)
    if options is None:
        options = read()
        cache.set(key, options, CACHE_SECONDS)
    return options


def researcher_subfields(run: ScoringRun) -> list[Option]:
    """The main subfields of the run's ranked researchers, by name: two queries, then cached
    for the run, which never changes once finished."""

    def read() -> list[Option]:
        counts = dict(
            ResearcherScore.objects.filter(run=run, rank__isnull=False, subfield_id__isnull=False)
            .values("subfield_id")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("subfield_id", "n")
        )
        names = dict(
            ScoredWork.objects.in_corpus()
            .filter(subfield_id__in=list(counts))
            .values("subfield_id")
            .annotate(name=Min(KT("primary_topic__subfield__name")))
            .order_by()
            .values_list("subfield_id", "name")
        )
        options = [Option(str(number), names.get(number) or f"Subfield {number}", n) for number, n in counts.items()]
        return sorted(options, key=lambda option: (option.label.casefold(), int(option.value)))

    return _cached_options(run, "researcher-subfields", read)


def institution_countries(run: ScoringRun) -> list[Option]:
    """The countries of the run's ranked institutions, by code: one query, then cached."""

    def read() -> list[Option]:
        counts = (
            InstitutionScore.objects.filter(run=run, rank__isnull=False)
            .exclude(institution__country_code="")
            .values("institution__country_code")
            .annotate(n=Count("id"))
            .order_by("institution__country_code")
            .values_list("institution__country_code", "n")
        )
        return [Option(code, code, n) for code, n in counts]

    return _cached_options(run, "institution-countries", read)


def page_number(raw: str | None) -> int:
    """A page number from the URL; anything that is not one means the first page."""
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def list_response(
    request: HtmxHttpRequest,
    form: RollUpListForm,
    run: ScoringRun | None,
    scores: QuerySet,
    *,
    ranked: int,
    labels: dict[int, str] | None = None,
) -> HttpResponse:
    """A ranked list's page, or its results alone for htmx. `scores` are the list's rows before
    the run, the rank and the order; `ranked` is how many it holds; `labels` name the rows' main
    subfields."""
    template = f"pages/{form.view_name}.html"
    if not form.is_valid():
        message = form.first_error()
        if request.htmx:
            # base.html has htmx swap 400s in: the reason takes the place of the list, and the
            # address bar keeps the last list that could be shown.
            response = render(request, f"{template}#results", {"error": message}, status=400)
            response["HX-Push-Url"] = "false"
            return response
        return render(request, "400.html", {"heading": "That list cannot be shown", "message": message}, status=400)
    page = None
    if run is not None:
        order = LIST_ORDERS[ListSort(form.cleaned_data["sort"])]
        rows = scores.filter(run=run, rank__isnull=False).order_by(*order, "id")
        # Past the last page there is nothing to show; clamping also keeps OFFSET within range.
        last_page = max(1, -(-ranked // LIST_PAGE_SIZE))
        page = UncountedPage(rows, number=min(page_number(request.GET.get("page")), last_page), per_page=LIST_PAGE_SIZE)
        page.object_list = [
            ListRow(score, (labels or {}).get(getattr(score, "subfield_id", None) or 0, "")) for score in page
        ]
    context = {
        "form": form,
        "run": run,
        "page": page,
        "ranked": ranked,
        "not_ranked": 0,
        "previous_url": form.url(page=page.number - 1) if page and page.has_previous else "",
        "next_url": form.url(page=page.number + 1) if page and page.has_next else "",
    }
    if run is not None:
        scored = run.researchers_scored if form.view_name == "researchers" else run.institutions_scored
        total = run.researchers_ranked if form.view_name == "researchers" else run.institutions_ranked
        context["total_ranked"], context["not_ranked"] = total, scored - total
    if not request.htmx:
        return render(request, template, context)
    response = render(request, f"{template}#results", context)
    response["HX-Push-Url"] = form.url(page=page.number if page else 1)
    return response


@vary_on_headers("HX-Request")
def researchers(request: HtmxHttpRequest) -> HttpResponse:
    """The current run's ranked researchers by any of the three scores, a page at a time,
    narrowed, if asked, to a main subfield."""
    run = ScoringRun.objects.current()
    options = researcher_subfields(run) if run else []
    form = ResearcherListForm(request.GET, options=options)
    scores = ResearcherScore.objects.select_related("author")
    ranked = run.researchers_ranked if run else 0
    if form.is_valid() and form.chosen:
        scores = scores.filter(subfield_id=form.cleaned_data["subfield"])
        chosen = form.chosen_option()
        ranked = chosen.count if chosen else 0
    labels = {int(option.value): option.label for option in options}
    return list_response(request, form, run, scores, ranked=ranked, labels=labels)


@vary_on_headers("HX-Request")
def institutions(request: HtmxHttpRequest) -> HttpResponse:
    """The current run's ranked institutions by any of the three scores, a page at a time,
    narrowed, if asked, to a country."""
    run = ScoringRun.objects.current()
    options = institution_countries(run) if run else []
    form = InstitutionListForm(request.GET, options=options)
    scores = InstitutionScore.objects.select_related("institution")
    ranked = run.institutions_ranked if run else 0
    if form.is_valid() and form.chosen:
        scores = scores.filter(institution__country_code=form.cleaned_data["country"])
        chosen = form.chosen_option()
        ranked = chosen.count if chosen else 0
    return list_response(request, form, run, scores, ranked=ranked)


# --- Search ----------------------------------------------------------------------------------


def matching_researchers(plan: SearchPlan, run: ScoringRun | None, works: Sequence[int]) -> list[ResearcherScore]:
    """Up to SEARCH_RESEARCHERS researchers of the run whose name holds every word of the
    search (as typed, completed or corrected), best researcher score first, then the ones not
    ranked, each with its `author_name`. `works` are the search's first papers, in result order.

    On PostgreSQL the names are read through their GIN index (to_tsvector('simple',
    display_name), migration papers 0015), the one paper search uses. When more than
    NAMED_AUTHORS papers hold the name's rarest word, or more authors hold the name, the
    researchers are the best of those among the authors of the first RESEARCHER_PAPERS of
    `works`: a researcher's score is the mean of their best papers, so the best researchers of a
    common name write the best papers holding it. Elsewhere each word is a substring of the
    name, among every researcher."""
    if run is None or not plan.words:
        return []
    order = (F("rank").asc(nulls_last=True), "author_id")
    scores = ResearcherScore.objects.filter(run=run).annotate(author_name=F("author__display_name"))
    if connection.vendor != "postgresql":
        for word in plan.words:
            scores = scores.filter(
                reduce(operator.or_, [Q(author__display_name__icontains=f) for f in forms_in(word, CORRECTED)])
            )
        return list(scores.order_by(*order)[:SEARCH_RESEARCHERS])
    # Only word characters reach to_tsquery (the plan's words are SEARCH_WORD matches), and the
    # query travels as a parameter, never as SQL.
    tsquery = " & ".join(f"({' | '.join(forms_in(word, CORRECTED))})" for word in plan.words)
    named = "to_tsvector('simple', display_name) @@ to_tsquery('simple', %s)"
    # Given the names' index alone, the planner walks the run's ranks testing each author's name,
    # which reads every score when few names match (2.5 s at 500,000 researchers), and walking
    # is no better when many do (33 s at 5M: the matches are spread over every rank). So each
    # arm below sorts a bounded set by `rank + 0`, which no index gives.
    top = f"ORDER BY s.rank + 0 NULLS LAST, s.author_id LIMIT {SEARCH_RESEARCHERS}"
    # OFFSET 0 keeps the planner from reading a common name's whole posting list to test a few
    # hundred authors.
    among_works = f"""SELECT s.author_id, s.rank FROM scoring_researcherscore s
        WHERE s.run_id = %s AND s.author_id IN (
            SELECT id FROM (SELECT n.id, n.display_name FROM papers_authorship w
                            JOIN papers_author n ON n.id = w.author_id
                            WHERE w.work_id = ANY(%s::bigint[]) OFFSET 0) authors
            WHERE {named})
        {top}"""
    among_params = [run.pk, list(works[:RESEARCHER_PAPERS]), tsquery]
    # Each of a researcher's papers holds their name, so no more researchers are named than papers
    # hold the name's rarest word: a common word goes straight to the first papers' authors, and
    # the names' index (whose posting lists that word makes long) is read only for rarer ones.
    if min(word.held for word in plan.words) > NAMED_AUTHORS:
        found, params = among_works, among_params
    else:
        # The names may still be more, with authors who are not researchers: each arm's count is
        # tested above its LIMIT, where PostgreSQL cannot push it down, so the arm not taken never runs.
        count = "(SELECT count(*) FROM named)"
        found = f"""WITH named AS MATERIALIZED (SELECT id FROM papers_author WHERE {named} LIMIT {NAMED_AUTHORS + 1})
            SELECT * FROM (SELECT s.author_id, s.rank FROM named
                           JOIN scoring_researcherscore s ON s.run_id = %s AND s.author_id = named.id
                           {top}) few WHERE {count} <= {NAMED_AUTHORS}
            UNION ALL
            SELECT * FROM ({among_works}) many WHERE {count} > {NAMED_AUTHORS}"""
        params = [tsquery, run.pk, *among_params]
    return list(
        ResearcherScore.objects.raw(
            f"""SELECT s.*, a.display_name AS author_name FROM ({found}) found
                JOIN scoring_researcherscore s ON s.run_id = %s AND s.author_id = found.author_id
                JOIN papers_author a ON a.id = s.author_id
                ORDER BY s.rank NULLS LAST, s.author_id""",
            [*params, run.pk],
        )
    )
