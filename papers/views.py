"""The public pages: home (the ranking's top), title search, the paper page and DOI links."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import Case, F, Q, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from datarank_site.celery import app as celery_app
from papers.forms import SearchForm, Sort
from papers.models import CorpusEntry, RefreshRun, Work, WorkQuerySet
from papers.records import normalize_doi, openalex_number
from scoring.models import ScoringRun

HOME_PAPERS = 50
SEARCH_PAGE_SIZE = 25
TOP_CITERS = 5
# Work ids are 64-bit integers in the database; anything larger cannot be a work of ours.
MAX_WORK_ID = 2**63 - 1


def home(request: HttpRequest) -> HttpResponse:
    run = ScoringRun.objects.current()
    papers = Work.objects.in_corpus().ranked(run.id)[:HOME_PAPERS] if run else []
    return render(request, "home.html", {"run": run, "papers": papers})


@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """Results as you type: an htmx request gets only the results partial, so the same URL
    serves both and `Vary` keeps caches from handing one the other's answer."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        return render(
            request, "400.html", {"heading": "That search cannot be run", "message": form.first_error()}, status=400
        )
    query = form.cleaned_data["q"]
    template = "search.html#results" if request.htmx else "search.html"
    if not query:
        return render(request, template, {"form": form, "query": "", "page": None})

    lookup = identifier_lookup(query)
    if lookup is not None:
        key = Work.objects.in_corpus().filter(lookup).values_list("id", flat=True).first()
        if key is not None:
            url = reverse("paper", kwargs={"key": f"W{key}"})
            # A plain redirect would be followed by htmx and swapped in as a fragment.
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

    run = ScoringRun.objects.current()
    works = Work.objects.search(query).with_score(run.id if run else None)
    works = filter_years(works, form.cleaned_data["year_from"], form.cleaned_data["year_to"])
    works = order_results(works, form.cleaned_data["sort"], query)
    page = Paginator(works, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "query": query, "page": page, "run": run, "unknown_identifier": lookup is not None}
    return render(request, template, context)


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


def order_results(works: WorkQuerySet, sort: str, query: str) -> WorkQuerySet:
    """Every order ends on the id so that pages never repeat or skip a paper."""
    by_rank = F("rank").asc(nulls_last=True)
    if sort == Sort.DATARANK:
        return works.order_by(by_rank, "id")
    if sort == Sort.CITATIONS:
        return works.order_by("-cited_by_count", by_rank, "id")
    if sort == Sort.YEAR:
        return works.order_by(F("publication_year").desc(nulls_last=True), by_rank, "id")
    # Relevance: the paper whose title is the query, then titles that start with it, then the rest.
    title_match = Case(When(title__iexact=query, then=0), When(title__istartswith=query, then=1), default=2)
    return works.annotate(title_match=title_match).order_by("title_match", by_rank, "id")


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


def paper(request: HttpRequest, key: str) -> HttpResponse:
    number = int(key[1:])
    if not 0 < number <= MAX_WORK_ID:
        return not_found(request, f"{key} is not a valid OpenAlex work id.")
    canonical = f"W{number}"
    if key != canonical:
        # `w123` and `W0123` name the same work: one URL per paper.
        return redirect("paper", key=canonical, permanent=True)

    run = ScoringRun.objects.current()
    run_id = run.id if run else None
    work = Work.objects.select_related("corpus_entry").with_score(run_id).filter(id=number).first()
    openalex_url = f"https://openalex.org/{canonical}"
    if work is None:
        return not_found(request, f"We hold no work {canonical}.", openalex_url=openalex_url)
    entry: CorpusEntry | None = getattr(work, "corpus_entry", None)
    if entry is None or not entry.in_corpus:
        return not_found(request, not_in_corpus_message(canonical, entry), openalex_url=openalex_url)

    # The scoring run's own cap and damping, so the list agrees with the figures it explains.
    cap = run.citer_cap if run else settings.DATARANK_CITER_CAP
    citers = Work.objects.kept_citers_of(number, cap=cap).select_related("corpus_entry").with_score(run_id)[:TOP_CITERS]
    return render(
        request,
        "paper.html",
        {
            "work": work,
            "run": run,
            "damping": run.damping if run else settings.DATARANK_DAMPING,
            "top_citers": citers,
        },
    )


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
