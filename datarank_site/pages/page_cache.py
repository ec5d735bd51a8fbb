"""Paper pages, FAIR pages and their htmx fragments, rendered once and served from the cache
(CACHE_URL's: each process's memory by default, Redis in production) until something they show
may have changed.

A page can be kept because it is the same for everyone: it carries no CSP nonce (script-src is
'self' and every script a static file), no CSRF token (the correction form is fetched by its own
GET when opened) and nothing about who asks, staff included. What a page shows depends on the
request only through its URL (host, path and the query that picks a sort or a page of citers)
and on whether htmx asked for the fragment, so those make up the entry's name together with the
page's version, read on every request in one query of small lookups, each off an index:

- the current scoring run, id and finish time: a publication moves every score, rank, history and
  histogram;
- the paper's own stamps: when its record was fetched and OpenAlex's date for it, its corpus entry
  (verdict, override, check time, citer pull), the latest check of its FAIR checklist and its set
  of citers (how many links, and the sum of the citers' ids);
- the FAIR calibration: the newest evaluation of any paper (id and time). The calibrated score is
  a percentile among every current evaluation, and evaluations are only ever added, so a new one
  anywhere is a new version (a deleted paper's evaluation, which also moves the percentiles, is
  not seen: that waits for the entry's expiry). The method's version is in the code.

To that the code's own stamp is added (templates, Python and the static manifest, hashed once per
process), so a deploy never serves pages rendered by the code before it. A change none of these
sees, such as a citer's record reloaded without a rescore, shows when the entry expires
(DATARANK_PAGE_CACHE_SECONDS).

Every cached page answers conditional requests: its ETag is a hash of its bytes, so a 304 always
means "the bytes you hold", and its Last-Modified is when the copy was rendered, which never
falls before a change the version sees. Query strings other than the page's own (`?q=…` on a
paper page) are rendered, not kept: they cannot fill the cache with copies of one page."""

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag

from datarank_site.pages.citers import CiterTableForm
from datarank_site.pages.paper import MAX_WORK_ID
from papers.models import Citation, FairSignal, Work
from scoring.models import FairEvaluation, ScoringRun

# What the entry's name is made from changes shape with this, and old entries are never read.
KEY_VERSION = 1
# The paper page's own parameters, the citer table's sort and page, and how long a value of one
# may be; a query with anything else is rendered, not kept.
CITER_TABLE_PARAMETERS = frozenset(CiterTableForm.base_fields)
MAX_PARAMETER_LENGTH = 20
# Folders whose files make the pages: a change to any of them is a new code stamp.
CODE_FOLDERS = ("templates", "datarank_site", "papers", "scoring")
CODE_SUFFIXES = frozenset({".py", ".html", ".txt", ".xml"})
# A work id no work has (ids are positive): it marks where the id goes in the compiled query.
ANY_WORK = -7_357_000_001


@dataclass(frozen=True, slots=True)
class Cached:
    """A rendered page as the cache keeps it."""

    content: bytes
    content_type: str
    etag: str
    rendered_at: int
    """Seconds since the epoch, whole: HTTP dates have no finer grain."""

    def response(self) -> HttpResponse:
        return HttpResponse(self.content, content_type=self.content_type)


def page_version(number: int) -> tuple | None:
    """What the pages of work `number` show besides the code and the request, in one query of
    small lookups, each off an index; None when the work is not a corpus paper, whose 404 the
    view explains. The values are the database's own (no field conversions): they only need to
    differ when what they stand for does."""
    sql, params = version_sql(DEFAULT_DB_ALIAS)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, [number if param == ANY_WORK else param for param in params])
        stamps = cursor.fetchone()
    if stamps is None or not stamps[0]:
        return None
    # Without a run, the page explains the settings' damping and cap.
    return (*stamps, settings.DATARANK_DAMPING, settings.DATARANK_CITER_CAP)


@functools.cache
def version_sql(alias: str) -> tuple[str, tuple]:
    """page_version's query, compiled once per process: building it through the ORM on every
    request would cost more than running it. ANY_WORK marks the work's id among its parameters."""
    return version_query(ANY_WORK).query.sql_with_params()


def version_query(number: int) -> QuerySet:
    run = ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).order_by("-finished_at", "-id")
    # Evaluations are only ever added (a re-evaluation is a new row, the old one kept as history),
    # so the newest row names the calibration: any evaluation of any paper makes a new one.
    newest_evaluation = FairEvaluation.objects.order_by("-id")
    latest_check = FairSignal.objects.filter(work_id=OuterRef("id")).order_by("-checked_at")
    # The set of its citers, off the (cited, citing) index: a pull or a load that links a citer
    # changes the table and the graph even before the next run.
    links = Citation.objects.filter(cited_id=OuterRef("id")).order_by().values("cited_id")
    return (
        Work.objects.filter(id=number)
        .annotate(
            page_run=Subquery(run.values("id")[:1]),
            page_run_finished_at=Subquery(run.values("finished_at")[:1]),
            page_evaluation=Subquery(newest_evaluation.values("id")[:1]),
            page_evaluated_at=Subquery(newest_evaluation.values("evaluated_at")[:1]),
            page_checklist_checked_at=Subquery(latest_check.values("checked_at")[:1]),
            page_citers=Subquery(links.annotate(n=Count("citing_id")).values("n")),
            page_citer_ids=Subquery(links.annotate(total=Sum("citing_id")).values("total")),
        )
        .values_list(
            "corpus_entry__in_corpus",
            "fetched_at",
            "openalex_updated",
            "corpus_entry__included",
            "corpus_entry__override",
            "corpus_entry__checked_at",
            "corpus_entry__citers_pulled_at",
            "page_run",
            "page_run_finished_at",
            "page_evaluation",
            "page_evaluated_at",
            "page_checklist_checked_at",
            "page_citers",
            "page_citer_ids",
        )
        .order_by()[:1]
    )


@functools.cache
def code_stamp() -> str:
    """A hash of the files that render the pages and of the static manifest (hashed file names),
    read once per process; DEBUG too, since django-htmx adds a script under it."""
    digest = hashlib.sha256(f"{settings.DEBUG}:{settings.STATIC_URL}".encode())
    base = Path(settings.BASE_DIR)
    files = sorted(
        path
        for folder in CODE_FOLDERS
        for path in (base / folder).rglob("*")
        if path.suffix in CODE_SUFFIXES and path.is_file()
    )
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    for path in (*files, manifest):
        if path.is_file():
            digest.update(str(path.relative_to(base) if path.is_relative_to(base) else path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cacheable_query(query: QueryDict, parameters: frozenset[str]) -> bool:
    """True when the query asks only for the page's own parameters, each once and short."""
    return all(
        name in parameters and len(values) == 1 and len(values[0]) <= MAX_PARAMETER_LENGTH
        for name, values in query.lists()
    )


def entry_key(request: HttpRequest, *, view_name: str, version: tuple) -> str:
    fragment = bool(getattr(request, "htmx", False))
    named = repr((code_stamp(), view_name, request.build_absolute_uri(), fragment, version))
    return f"page:v{KEY_VERSION}:{view_name}:{hashlib.sha256(named.encode()).hexdigest()}"


def cached_page(*, view_name: str, parameters: frozenset[str] = frozenset()) -> Callable:
    """Serve the decorated view (`view(request, key)`, a corpus paper's page) from the cache,
    under its version, and answer If-None-Match and If-Modified-Since with a 304 when they match.
    `parameters` are the query parameters the page reads; any other query is rendered uncached."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, key: str) -> HttpResponse:
            seconds = settings.DATARANK_PAGE_CACHE_SECONDS
            if not seconds or request.method not in ("GET", "HEAD") or not cacheable_query(request.GET, parameters):
                return view(request, key)
            number = int(key[1:])
            version = page_version(number) if key == f"W{number}" and number <= MAX_WORK_ID else None
            if version is None:
                # A redirect to the canonical URL, or a 404 that says why: the view's to give.
                return view(request, key)
            name = entry_key(request, view_name=view_name, version=version)
            cached: Cached | None = cache.get(name)
            if cached is not None:
                response = cached.response()
            else:
                response = view(request, key)
                if response.status_code != 200 or response.streaming or response.cookies:
                    return response
                content = response.content
                cached = Cached(
                    content=content,
                    content_type=response["Content-Type"],
                    etag=quote_etag(hashlib.sha256(content).hexdigest()[:32]),
                    rendered_at=int(time.time()),
                )
                cache.set(name, cached, seconds)
            response["ETag"] = cached.etag
            response["Last-Modified"] = http_date(cached.rendered_at)
            # Anyone may keep it, and must ask again (a 304 if nothing changed) before showing it.
            patch_cache_control(response, public=True, no_cache=True)
            conditional = get_conditional_response(
                request, etag=cached.etag, last_modified=cached.rendered_at, response=response
            )
            # Handed a response, Django returns it or a 304/412 in its place, never None; the
            # stubs' return type covers the call without one.
            return response if conditional is None else conditional

        return wrapper

    return decorator
