"""The public pages: home (the ranking's top), title search, the paper page and DOI links."""

import csv
from urllib.parse import urlencode

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from datarank_site.celery import app as celery_app
from datarank_site.pages.fair import fair_for_page, fair_page
from datarank_site.pages.forms import RankingForm, SearchForm, Sort
from datarank_site.pages.methodology import methodology_figures
from datarank_site.pages.pagination import CappedPaginator, UncountedPage
from datarank_site.pages.paper import (
    CiterRow,
    Citers,
    as_data,
    citer_table,
    distribution,
    graph_for,
    history,
    load_citers,
    score_split,
)
from datarank_site.pages.templatetags.titles import title_text
from papers.models import CorpusEntry, RefreshRun, Work, WorkQuerySet
from papers.openalex.records import normalize_doi, openalex_number
from scoring.models import SCORE_FIELDS, ScoredWork, ScoringRun

HOME_PAPERS = 50
SEARCH_PAGE_SIZE = 25
# A search matching more papers than this says "more than 1,000" rather than count them all.
SEARCH_COUNT_CAP = 1_000
RANKING_PAGE_SIZE = 50
# Work fields no list of papers shows.
LONG_FIELDS = ("abstract", "indexed_in", "topics", "repository_locations")
TOP_CITERS = 5
# Work ids are 64-bit integers in the database; anything larger cannot be a work of ours.
MAX_WORK_ID = 2**63 - 1


def home(request: HttpRequest) -> HttpResponse:
    run = ScoringRun.objects.current()
    papers = ScoredWork.objects.in_corpus().ranked(run.id)[:HOME_PAPERS] if run else []
    return render(request, "pages/home.html", {"run": run, "papers": papers})


@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """Results as you type: an htmx request gets only the results partial, so the same URL
    serves both and `Vary` keeps caches from handing one the other's answer."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        heading, message = "That search cannot be run", form.first_error()
        if request.htmx:
            # base.html has htmx swap 400s in, so the visitor reads why where the results were.
            return render(request, results_partial(request), {"form": form, "error": message}, status=400)
        return render(request, "400.html", {"heading": heading, "message": message}, status=400)
    query = form.cleaned_data["q"]
    if not query:
        return search_response(request, form, {"query": "", "page": None})

    lookup = identifier_lookup(query)
    if lookup is not None:
        key = Work.objects.in_corpus().filter(lookup).values_list("id", flat=True).first()
        if key is not None:
            url = reverse("paper", kwargs={"key": f"W{key}"})
            # A plain redirect would be followed by htmx and swapped in as a fragment.
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

    run = ScoringRun.objects.current()
    # The long fields stay behind: ordering by relevance sorts every match, and narrow rows sort in memory.
    works = ScoredWork.objects.search(query).defer(*LONG_FIELDS).with_score(run.id if run else None)
    works = filter_years(works, form.cleaned_data["year_from"], form.cleaned_data["year_to"])
    if form.cleaned_data["tier"] is not None:
        works = works.filter(tier=form.cleaned_data["tier"])
    works = order_results(works, form.cleaned_data["sort"])
    paginator = CappedPaginator(works, SEARCH_PAGE_SIZE, cap=SEARCH_COUNT_CAP)
    page = paginator.get_page(request.GET.get("page"))
    context = {"query": query, "page": page, "run": run, "unknown_identifier": lookup is not None}
    return search_response(request, form, context, page_number=page.number)


def results_partial(request: HttpRequest) -> str:
    """The search box in the header swaps results into <main>, which needs the results'
    region around them; the search page's own controls swap into that region."""
    return (
        "pages/search.html#results" if request.htmx.target == "search-results" else "pages/search.html#results-region"
    )


def search_response(request: HttpRequest, form: SearchForm, context: dict, *, page_number: int = 1) -> HttpResponse:
    # Links and the address bar carry what was asked, not every empty field the form sent.
    search_query = form.query_string()
    context = {"form": form, "search_query": search_query, **context}
    if not request.htmx:
        return render(request, "pages/search.html", context)
    response = render(request, results_partial(request), context)
    query_string = search_query + (f"&page={page_number}" if page_number > 1 else "")
    response["HX-Push-Url"] = reverse("search") + (f"?{query_string}" if query_string else "")
    return response


@vary_on_headers("HX-Request")
def ranking(request: HttpRequest) -> HttpResponse:
    """The whole corpus in DataRank order, a page at a time, straight off the (run, rank) index."""
    form = RankingForm(request.GET)
    if not form.is_valid():
        return render(
            request, "400.html", {"heading": "That ranking cannot be shown", "message": form.first_error()}, status=400
        )
    tier = form.cleaned_data["tier"]
    run = ScoringRun.objects.current()
    page = None
    if run:
        works = ScoredWork.objects.in_corpus().ranked(run.id)
        if tier is not None:
            works = works.in_tier(tier, papers_scored=run.papers_scored)
        # Past the last page there is nothing to show; clamping also keeps OFFSET within range.
        last_page = max(1, -(-run.papers_scored // RANKING_PAGE_SIZE))
        number = min(page_number(request.GET.get("page")), last_page)
        page = UncountedPage(works, number=number, per_page=RANKING_PAGE_SIZE)
    context = {"form": form, "run": run, "page": page, "tier": tier}
    if not request.htmx:
        return render(request, "pages/ranking.html", context)
    response = render(request, "pages/ranking.html#ranking-results", context)
    # Choosing "All tiers" sends an empty tier, and the first page needs no number.
    params = {"tier": tier, "page": page.number if page and page.number > 1 else None}
    query = urlencode({name: value for name, value in params.items() if value})
    response["HX-Push-Url"] = reverse("ranking") + (f"?{query}" if query else "")
    return response


def page_number(raw: str | None) -> int:
    """A page number from the URL; anything that is not one means the first page."""
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawlers may read every paper page; search results and the admin are not for indexing."""
    sitemap = request.build_absolute_uri(reverse("sitemaps"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search/", "Allow: /", "", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def identifier_lookup(text: str) -> Q | None:
    """The filter for the one work a DOI or an OpenAlex work id names, or None when the text
    is neither and so is a title search."""
    try:
        return Q(doi=normalize_doi(text))
    except ValueError:
        pass
    try:
        number = openalex_number(text, kind="W")
    except ValueError:
        return None
    # A number past 64 bits cannot be one of ours, and would overflow the database's integer.
    return Q(id=number) if number <= MAX_WORK_ID else Q(pk__in=[])


def filter_years(works: WorkQuerySet, start: int | None, end: int | None) -> WorkQuerySet:
    if start is not None:
        works = works.filter(publication_year__gte=start)
    if end is not None:
        works = works.filter(publication_year__lte=end)
    return works


def order_results(works: WorkQuerySet, sort: str) -> WorkQuerySet:
    """Every order ends on the id so that pages never repeat or skip a paper."""
    by_rank = F("rank").asc(nulls_last=True)
    if sort == Sort.DATARANK:
        return works.order_by(by_rank, "id")
    if sort == Sort.CITATIONS:
        return works.order_by("-cited_by_count", by_rank, "id")
    if sort == Sort.YEAR:
        return works.order_by(F("publication_year").desc(nulls_last=True), by_rank, "id")
    return works.order_by(F("relevance").desc(), by_rank, "id")


def doi(request: HttpRequest, doi: str) -> HttpResponse:
    """`/doi/10.…` is a stable link to a paper for anyone who knows only its DOI."""
    try:
        bare = normalize_doi(doi)
    except ValueError:
        return not_found(request, f"“{doi}” is not a DOI: a DOI looks like 10.1234/abc.")
    key = Work.objects.in_corpus().filter(doi=bare).values_list("id", flat=True).first()
    if key is None:
        return not_found(request, f"We hold no corpus paper with the DOI {bare}.")
    return redirect("paper", key=f"W{key}")


def find_paper(request: HttpRequest, key: str, *, view: str) -> tuple[Work, ScoringRun | None] | HttpResponse:
    """The corpus paper `key` names with its figures from the current run (two queries), or the
    response to send instead: a redirect to the canonical URL, or a 404 that says why."""
    number = int(key[1:])
    if not 0 < number <= MAX_WORK_ID:
        return not_found(request, f"{key} is not a valid OpenAlex work id.")
    canonical = f"W{number}"
    if key != canonical:
        # `w123` and `W0123` name the same work: one URL per paper.
        return redirect(view, key=canonical, permanent=True)

    run = ScoringRun.objects.current()
    work = ScoredWork.objects.for_page(run.id if run else None).filter(id=number).first()
    openalex_url = f"https://openalex.org/{canonical}"
    if work is None:
        return not_found(request, f"We hold no work {canonical}.", openalex_url=openalex_url)
    entry: CorpusEntry | None = getattr(work, "corpus_entry", None)
    if entry is None or not entry.in_corpus:
        return not_found(request, not_in_corpus_message(canonical, entry), openalex_url=openalex_url)
    return work, run


def citers_of(work: Work, run: ScoringRun | None) -> Citers:
    # The scoring run's own cap and damping, so the citers agree with the figures they explain.
    return load_citers(
        work_id=work.id,
        run_id=run.id if run else None,
        cap=run.citer_cap if run else settings.DATARANK_CITER_CAP,
        damping=run.damping if run else settings.DATARANK_DAMPING,
    )


@vary_on_headers("HX-Request")
def paper(request: HttpRequest, key: str) -> HttpResponse:
    """The paper page; an htmx request (sorting or paging the citer table) gets the table alone."""
    found = find_paper(request, key, view="paper")
    if isinstance(found, HttpResponse):
        return found
    work, run = found
    citers = citers_of(work, run)
    context = {
        "work": work,
        "run": run,
        "damping": run.damping if run else settings.DATARANK_DAMPING,
        "cap": run.citer_cap if run else settings.DATARANK_CITER_CAP,
        "citers": citers,
        "table": citer_table(citers.kept, request.GET),
    }
    if request.htmx:
        return render(request, "pages/paper.html#citer-table", context)
    context |= {
        "top_citers": citers.kept[:TOP_CITERS],
        "split": score_split(work, citers, damping=context["damping"]) if work.datarank is not None else None,
        "graph": graph_for(work=work, citers=citers, run_id=run.id if run else None),
        "distribution": distribution(run=run) if run else None,
        "history": history(work_id=work.id),
        **fair_for_page(work),
    }
    return render(request, "pages/paper.html", context)


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
        "in_corpus": _in_corpus(row.work),
    }


def paper_citers_csv(request: HttpRequest, key: str) -> HttpResponse:
    """The kept citers in cap order: `contribution` adds up to the network contribution."""
    found = find_paper(request, key, view="paper_citers_csv")
    if isinstance(found, HttpResponse):
        return found
    work, run = found
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{work.openalex_id}-citers.csv"'
    rows = [citer_data(row) for row in citers_of(work, run).kept]
    # A float's str() is its shortest exact form, so the CSV keeps full precision.
    writer = csv.DictWriter(response, fieldnames=CITER_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return response


def paper_data(request: HttpRequest, key: str) -> HttpResponse:
    """Everything the paper page shows, as JSON."""
    found = find_paper(request, key, view="paper_data")
    if isinstance(found, HttpResponse):
        return found
    work, run = found
    citers = citers_of(work, run)
    entry = work.corpus_entry
    body = {
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
            "url": request.build_absolute_uri(reverse("paper", kwargs={"key": work.openalex_id})),
        },
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
        "citers": [citer_data(row) for row in citers.kept],
        "self_citations_excluded": [
            {"openalex_id": citer.openalex_id, "title": title_text(citer.title), "cited_by_count": citer.cited_by_count}
            for citer in citers.excluded
        ],
        "fair": as_data(fair_for_page(work)),
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'inline; filename="{work.openalex_id}.json"'
    return response


def _in_corpus(work: Work) -> bool:
    entry = getattr(work, "corpus_entry", None)
    return entry is not None and entry.in_corpus


def not_in_corpus_message(key: str, entry: CorpusEntry | None) -> str:
    if entry is None:
        return f"{key} is in our database as a citing work but is not in the data-sharing corpus."
    if entry.override == CorpusEntry.Override.EXCLUDE:
        return f"{key} is in our database but is not in the data-sharing corpus: an administrator took it out."
    return (
        f"{key} is in our database but is not in the data-sharing corpus: "
        "the data-paper check did not find it to be a data-sharing paper."
    )


def not_found(request: HttpRequest, message: str, *, openalex_url: str = "") -> HttpResponse:
    """A 404 that says what is missing, rendered here rather than raised so it reads the same
    whether DEBUG is on or off."""
    return render(request, "404.html", {"message": message, "openalex_url": openalex_url}, status=404)


# The broker check gives up after this many seconds: a health check that hangs is no check.
BROKER_TIMEOUT = 2


def healthz(request: HttpRequest) -> JsonResponse:
    """For a load balancer or a monitor: 200 when the database and the broker answer, 503 when
    either does not; the last refresh run is shown but never makes the site unhealthy."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    last = RefreshRun.objects.order_by("-started_at").first() if checks["database"] == "ok" else None
    healthy = all(result == "ok" for result in checks.values())
    body = {
        **checks,
        "last_refresh": None
        if last is None
        else {
            "status": last.status,
            "started_at": last.started_at,
            "finished_at": last.finished_at,
            "resumes_at": last.resumes_at,
            "papers_done": last.papers_done,
            "papers_total": last.papers_total,
        },
        "status": "ok" if healthy else "degraded",
    }
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"error: {exc}"
    return "ok"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT) as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # a broker can fail in many transport-specific ways; all mean "down"
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"


# --- FAIR ---


def paper_fair(request: HttpRequest, key: str) -> HttpResponse:
    """A paper's full FAIR evaluation: sub-scores, every check with its evidence and fix, history."""
    found = find_paper(request, key, view="paper_fair")
    if isinstance(found, HttpResponse):
        return found
    work, _ = found
    return render(request, "pages/fair.html", {"work": work, **fair_page(work=work)})


def methodology(request: HttpRequest) -> HttpResponse:
    """How DataRank and the FAIR score are made, with figures from the live corpus."""
    return render(request, "pages/methodology.html", methodology_figures())
