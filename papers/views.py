"""The public pages: home (the ranking's top), title search and the paper page."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from datarank_site.celery import app as celery_app
from papers.forms import SearchForm
from papers.models import CorpusEntry, RefreshRun, Work
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


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "400.html",
            {"heading": "That search cannot be run", "message": form.errors["q"][0]},
            status=400,
        )
    query = form.cleaned_data["q"]
    if not query:
        return render(request, "search.html", {"form": form, "query": "", "page": None})
    run = ScoringRun.objects.current()
    works = Work.objects.search(query).with_score(run.id if run else None)
    works = works.order_by(F("rank").asc(nulls_last=True), "id")
    page = Paginator(works, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "search.html", {"form": form, "query": query, "page": page, "run": run})


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
