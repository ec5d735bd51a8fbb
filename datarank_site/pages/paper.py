"""The paper page, built once for paper.html and for its JSON twin data.json.

find_paper looks the corpus paper up (or raises: a redirect to its canonical URL, or a 404 that
says why); PaperPage holds what both renderings share (the paper with its figures from the
current run, the run's parameters, its citers) and builds each one's extras. Each piece costs a
fixed number of queries however many citers the paper has; the graph and the distribution are
cached, the graph per paper, run and citer set, the distribution per run."""

import dataclasses
import hashlib
import html
import math
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Count, FloatField, IntegerField, Max, Min, Window
from django.db.models.functions import Cast, Floor
from django.forms.models import model_to_dict
from django.http import QueryDict
from django.urls import reverse
from django.utils.safestring import mark_safe

from datarank_site.pages.citers import CiterRow, Citers, citer_table, load_citers
from datarank_site.pages.errors import NotFound, Redirect
from datarank_site.pages.fair import fair_for_page
from datarank_site.pages.graph import Bins, Node, Role, citation_graph
from datarank_site.pages.templatetags.titles import title_text
from papers.models import Authorship, Citation, CorpusEntry, Work
from scoring.explain import Explanation, Pending, Standing, not_yet_scored, standing, why_this_datarank
from scoring.models import SCORE_FIELDS, PaperScore, RunParameters, ScoredWork, ScoringRun

HISTOGRAM_BINS = 40
TOP_CITERS = 5
# A byline names this many authors; a consortium paper's thousand are on OpenAlex.
BYLINE_AUTHORS = 20
# Work ids are 64-bit integers in the database; anything larger cannot be a work of ours.
MAX_WORK_ID = 2**63 - 1
# Both cached values are fixed once their run has finished; the timeout only bounds memory.
CACHE_SECONDS = 7 * 24 * 3600


def find_paper(key: str, *, view: str) -> tuple[ScoredWork, ScoringRun | None]:
    """The corpus paper `key` names with its figures from the current run (two queries).
    Raises Redirect to the canonical URL of a non-canonical key, NotFound saying why otherwise."""
    number = int(key[1:])
    if not 0 < number <= MAX_WORK_ID:
        raise NotFound(f"{key} is not a valid OpenAlex work id.")
    canonical = f"W{number}"
    if key != canonical:
        # `w123` and `W0123` name the same work: one URL per paper.
        raise Redirect(reverse(view, kwargs={"key": canonical}), permanent=True)

    run = ScoringRun.objects.current()
    work = ScoredWork.objects.for_page(run.id if run else None).filter(id=number).first()
    openalex_url = f"https://openalex.org/{canonical}"
    if work is None:
        raise NotFound(f"We hold no work {canonical}.", openalex_url=openalex_url)
    entry: CorpusEntry | None = getattr(work, "corpus_entry", None)
    if entry is None or not entry.in_corpus:
        raise NotFound(
            not_in_corpus_message(canonical, entry),
            openalex_url=openalex_url,
            correction_url=reverse("paper_correction", kwargs={"key": canonical}),
            editor_classified=bool(entry and entry.override),
        )
    return work, run


def not_in_corpus_message(key: str, entry: CorpusEntry | None) -> str:
    if entry is None:
        return f"{key} is in our database as a citing work but is not in the data-sharing corpus."
    if entry.override == CorpusEntry.Override.EXCLUDE:
        return f"{key} is in our database but is not in the data-sharing corpus: an administrator took it out."
    return (
        f"{key} is in our database but is not in the data-sharing corpus: "
        "the data-paper check did not find it to be a data-sharing paper."
    )


@dataclass(frozen=True)
class PaperPage:
    """What paper.html and data.json share; `build` reads it in a fixed number of queries."""

    work: ScoredWork
    run: ScoringRun | None
    parameters: RunParameters
    citers: Citers

    @classmethod
    def build(cls, key: str, *, view: str = "paper") -> "PaperPage":
        work, run = find_paper(key, view=view)
        # The scoring run's own cap and damping, so the citers agree with the figures they explain.
        parameters = ScoringRun.parameters(run)
        citers = load_citers(
            work_id=work.id, run_id=run.id if run else None, cap=parameters.cap, damping=parameters.damping
        )
        return cls(work=work, run=run, parameters=parameters, citers=citers)

    def standing_data(self) -> dict | None:
        """The standing for data.json: the sentences the page shows and what they are based on."""
        shown, run, work = self.standing(), self.run, self.work
        # standing() is None without a run, so `run is None` only tells mypy so.
        if shown is None or run is None:
            return None
        cohort = None
        year = work.publication_year
        # Only a paper with a publication year has a cohort (scoring.engine.cohort_array).
        if work.cohort_size and year is not None:
            cohort = {"subfield": subfield_name(work), "subfield_id": work.subfield_id, "years": [year - 1, year + 1]}
        return {
            "ranked": shown.ranked,
            "ranked_papers": run.papers_ranked,
            "not_ranked_papers": run.papers_not_ranked,
            "corpus": shown.corpus,
            "cohort": shown.cohort or None,
            "cohort_definition": cohort,
            "caveat": shown.caveat or None,
        }

    def table_context(self, query: QueryDict) -> dict:
        """What the citer table needs: all an htmx request for a sorted or paged table gets."""
        return {
            "work": self.work,
            "run": self.run,
            "damping": self.parameters.damping,
            "cap": self.parameters.cap,
            "citers": self.citers,
            "table": citer_table(self.citers.kept, query),
        }

    def context(self, query: QueryDict) -> dict:
        """Everything paper.html shows."""
        work, run = self.work, self.run
        split: Split | None = None
        why: Pending | Explanation
        if work.datarank is None:
            why = not_yet_scored(cited_by_count=work.cited_by_count, citers_held=len(self.citers.kept))
        else:
            split = score_split(work, self.citers, damping=self.parameters.damping)
            # with_score reads every SCORE_FIELD off the run's one PaperScore row, whose columns
            # are NOT NULL: a work with a DataRank has all of them.
            citing, with_signal = work.citing_works, work.citers_with_signal
            excluded, cap_bound = work.self_citations_excluded, work.cap_bound
            base, network = work.base_contribution, work.network_contribution
            if (
                base is None
                or network is None
                or citing is None
                or with_signal is None
                or excluded is None
                or cap_bound is None
            ):
                raise ValueError(f"{work.openalex_id} has a DataRank but not every figure of its score")
            why = why_this_datarank(
                cited_by_count=work.cited_by_count,
                base_contribution=base,
                network_contribution=network,
                datarank=work.datarank,
                citing_works=citing,
                citers_with_signal=with_signal,
                self_citations_excluded=excluded,
                cap_bound=cap_bound,
                base_percent=split.base_percent,
                network_percent=split.network_percent,
                b=split.b,
                n=split.n,
                damping=self.parameters.damping,
                cap=self.parameters.cap,
            )
        return {
            **self.table_context(query),
            "byline": byline(work),
            "top_citers": self.citers.kept[:TOP_CITERS],
            "split": split,
            "standing": self.standing(),
            # The sentences are plain text for element content, where only &, < and > need escaping;
            # autoescaping would also spell their apostrophes &#x27;, which the page's prose never did.
            "why": {name: mark_safe(html.escape(text, quote=False)) for name, text in dataclasses.asdict(why).items()},
            "graph": graph_for(work=work, citers=self.citers, run_id=run.id if run else None),
            "distribution": distribution(run=run) if run else None,
            "history": history(work_id=work.id),
            "kept_runs": settings.DATARANK_SCORE_RUNS_KEPT,
            **fair_for_page(work),
        }

    def standing(self) -> Standing | None:
        """Where the paper stands in the current run; None when the run did not score it."""
        work, run = self.work, self.run
        if run is None or work.datarank is None:
            return None
        return standing(
            rank=work.rank,
            top_percent=work.top_percent,
            ranked_papers=run.papers_ranked,
            scored_papers=run.papers_scored,
            cohort_size=work.cohort_size,
            cohort_top_percent=work.cohort_top_percent,
            subfield=subfield_name(work),
            year=work.publication_year,
        )

    def data(self, *, url: str) -> dict:
        """Everything the page shows, as data.json gives it; `url` is the page's own address."""
        work, run, entry = self.work, self.run, self.work.corpus_entry
        return {
            "work": {
                "openalex_id": work.openalex_id,
                "doi": work.doi or None,
                "title": title_text(work.title),
                "abstract": work.abstract or None,
                "publication_year": work.publication_year,
                "venue": work.venue or None,
                "type": work.type or None,
                "cited_by_count": work.cited_by_count,
                "referenced_works_count": work.referenced_works_count,
                "is_oa": work.is_oa,
                "oa_status": work.oa_status or None,
                "is_retracted": work.is_retracted,
                "openalex_updated": work.openalex_updated,
                "fetched_at": work.fetched_at,
                "url": url,
            },
            "authors": [
                {
                    "openalex_id": f"A{authorship.author_id}",
                    "display_name": authorship.author.display_name,
                    "orcid": authorship.author.orcid or None,
                    "position": authorship.position,
                    "url": urljoin(url, reverse("researcher", kwargs={"key": f"A{authorship.author_id}"})),
                }
                for authorship in Authorship.objects.filter(work_id=work.id).select_related("author")
            ],
            "unidentified_authors": work.unidentified_authors,
            "data_paper_check": {
                "passed": entry.check_passed,
                "confidence": entry.confidence,
                "reasons": entry.reasons,
                "override": entry.override or None,
                "checked_at": entry.checked_at,
                "citers_pulled_at": entry.citers_pulled_at,
            },
            "run": None
            if run is None
            else {
                "id": run.id,
                "algorithm": run.algorithm,
                "damping": run.damping,
                "citer_cap": run.citer_cap,
                "finished_at": run.finished_at,
                "papers_scored": run.papers_scored,
            },
            "score": None if work.datarank is None else {name: getattr(work, name) for name in SCORE_FIELDS},
            "standing": self.standing_data(),
            "citers": [citer_data(row) for row in self.citers.kept],
            "self_citations_excluded": [
                {
                    "openalex_id": citer.openalex_id,
                    "title": title_text(citer.title),
                    "cited_by_count": citer.cited_by_count,
                }
                for citer in self.citers.excluded
            ],
            "fair": as_data(fair_for_page(work)),
        }


@dataclass(frozen=True, slots=True)
class BylineAuthor:
    """An author as a byline names them: their OpenAlex id (their page's key) and name."""

    openalex_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Byline:
    """The paper's first BYLINE_AUTHORS authorships with an author id, in the paper's order."""

    authors: list[BylineAuthor]
    total: int
    """All its authorships with an author id."""
    unidentified: int
    """Its authorships without one, which count for nobody."""

    @property
    def more(self) -> int:
        return self.total - len(self.authors)


def byline(work: Work) -> Byline:
    """One query: the window counts every authorship before the slice cuts the list."""
    shown = list(
        Authorship.objects.filter(work_id=work.id)
        .select_related("author")
        .annotate(total=Window(Count("id")))
        .order_by("position", "id")[:BYLINE_AUTHORS]
    )
    return Byline(
        authors=[BylineAuthor(f"A{each.author_id}", each.author.display_name) for each in shown],
        total=shown[0].total if shown else 0,
        unidentified=work.unidentified_authors,
    )


def subfield_name(work: Work) -> str:
    topic = work.primary_topic or {}
    return (topic.get("subfield") or {}).get("name", "")


# The columns of the citer CSV; DictWriter refuses a row with any other key, so they and
# citer_data stay in step.
CITER_COLUMNS = (
    "position",
    "openalex_id",
    "doi",
    "title",
    "publication_year",
    "venue",
    "cited_by_count",
    "referenced_works_count",
    "term",
    "contribution",
    "datarank",
    "datarank_is_base_only",
    "in_corpus",
)


def citer_data(row: CiterRow) -> dict:
    """One counted citer as the CSV and the JSON downloads give it, figures at full precision."""
    entry = getattr(row.work, "corpus_entry", None)
    return {
        "position": row.position,
        "openalex_id": row.work.openalex_id,
        "doi": row.work.doi or None,
        "title": title_text(row.work.title),
        "publication_year": row.work.publication_year,
        "venue": row.work.venue or None,
        "cited_by_count": row.work.cited_by_count,
        "referenced_works_count": row.work.referenced_works_count,
        "term": row.term,
        "contribution": row.contribution,
        "datarank": row.datarank,
        "datarank_is_base_only": row.base_only,
        "in_corpus": entry is not None and entry.in_corpus,
    }


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


def score_split(work: ScoredWork, citers: Citers, *, damping: float) -> Split:
    """For a scored `work`. B and N come from the run's figures; only a damping of exactly 0 or 1,
    which zeroes one of them, makes them fall back on today's count and citers."""
    base, network = work.base_contribution, work.network_contribution
    if base is None or network is None:
        raise ValueError(f"{work.openalex_id} has no score to split")
    total = base + network
    return Split(
        base_percent=100 * base / total if total else 0.0,
        b=base / (1 - damping) if damping < 1 else math.log1p(work.cited_by_count),
        n=network / damping if damping > 0 else math.fsum(row.term for row in citers.kept),
    )


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
    """The run's DataRank histogram of its ranked papers (bin centres, width and counts), or None
    for a run that ranked nothing. Two aggregate queries the first time, served from the cache after: the
    run never changes once it has finished."""
    # The finish time too: ids can come round again after a database is reset.
    key = f"datarank-histogram:v2:{run.id}:{run.finished_at:%Y%m%d%H%M%S%f}"
    histogram = cache.get(key)
    if histogram is None:
        # The ranked papers only: the papers not ranked (all at 0) are counted beside the chart.
        scores = PaperScore.objects.filter(run_id=run.id, rank__isnull=False)
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
