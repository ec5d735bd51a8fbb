"""/api/v1/: the endpoints. Thin, as the pages' views are: read the parameters (ninja checks
their types, the pages' forms their rules), call the pages' reads, answer a schema.

django-ninja rather than hand-written views: the schemas type every answer and the OpenAPI 3.1
document is generated from them, so the document cannot drift from what is sent; it bundles
Swagger UI, which we serve from our own static files under the site's CSP."""

import base64
import binascii
import json
from typing import Literal

from django.db.models import Q
from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Query
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import Swagger

from datarank_site.api import answers
from datarank_site.api.http import error_response, paper_not_modified
from datarank_site.api.schemas import MAX_BATCH, Batch, BatchRequest, CitersPage, Error, Paper, PapersPage, Run
from datarank_site.pages.errors import NotFound
from datarank_site.pages.forms import MAX_QUERY_LENGTH, MAX_YEAR, MIN_YEAR, RankingForm, SearchForm, Sort
from datarank_site.pages.paper import PaperPage, citer_data, find_paper
from datarank_site.pages.views import LONG_FIELDS, SEARCH_COUNT_CAP, filter_years, identifier_lookup, order_results
from papers.models import Work, WorkQuerySet
from scoring.models import ScoredWork, ScoringRun

DESCRIPTION = f"""Read-only JSON for the DataRank index of data-sharing papers.

Papers are named by their OpenAlex work id or their DOI, in any spelling. Score fields are named
as the columns of `manage.py scores --format csv`; every paper answer says which scoring run its
figures come from. A field that is not known is `null`, and `null_reasons` says why — never a
silent 0. Lists are cursor-paged: pass `next_cursor` back as `cursor` for the next page.

Answers carry `ETag` and `Cache-Control: public, max-age=3600` and answer `If-None-Match` with a
304. Each client may make a number of requests a minute (`DATARANK_API_RATE`, 60/m by default);
past it the answer is a 429 with `Retry-After`. Errors are JSON: `{{"error": …, "detail": …}}`.
A batch holds at most {MAX_BATCH} ids."""

api = NinjaAPI(
    title="DataRank API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # No validator badge: it would be an image from a third party's server.
    docs=Swagger(settings={"validatorUrl": None}),
)

ERRORS = {400: Error, 404: Error, 429: Error}
NOT_MODIFIED = {304: None}
CITERS_PAGE = 50
MAX_CITERS_PAGE = 200
SEARCH_PAGE = 25
RANKING_PAGE = 50
MAX_LIST_PAGE = 100


# --- errors as JSON ----------------------------------------------------------------------------


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    return error_response(exc.status_code, str(exc))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    # find_paper's NotFound says why: not held, not in the corpus, not a valid id.
    return error_response(404, exc.message if isinstance(exc, NotFound) else "Not found.")


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError):
    problems = []
    for error in exc.errors:
        # ("query", "limit") or ("body", "body", "ids"): the parameter, not where ninja read it.
        where = ".".join(str(part) for part in error.get("loc", ())[1:] if part != "body")
        problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid"))
    return error_response(400, "; ".join(problems) or "The request is not valid.")


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception):
    # Django logs it and renders its 500 (a 503 for a database that cannot be reached), which
    # ApiMiddleware answers as JSON.
    raise exc


# --- cursors -----------------------------------------------------------------------------------


def encode_cursor(**position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *names: str) -> dict[str, int] | None:
    """The position a cursor of ours holds; 400 for anything else."""
    if cursor is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        position = None
    if (
        not isinstance(position, dict)
        or set(position) != set(names)
        or not all(type(value) is int and value >= 0 for value in position.values())
    ):
        raise HttpError(400, "That cursor is not one this API gave: start again without it.")
    return position


def page_run(position: dict[str, int] | None) -> ScoringRun | None:
    """The run a list is read from: a cursor's own, so that its pages never mix two runs."""
    current = ScoringRun.objects.current()
    if position is None or (current is not None and position["run"] == current.id):
        return current
    if position["run"] == 0:
        # Read before anything was scored: the rest of the list is read so too.
        return None
    run = ScoringRun.objects.filter(id=position["run"], status=ScoringRun.Status.SUCCEEDED).first()
    if run is None:
        raise HttpError(400, "That cursor's scoring run is gone: start again without the cursor.")
    if run.folded_at is not None:
        # Folded runs keep only the rows that changed (scoring.retention): the rest of its list is gone.
        raise HttpError(400, "That cursor's scoring run is no longer kept whole: start again without the cursor.")
    return run


def run_for_list(run: ScoringRun | None, current: ScoringRun | None) -> dict | None:
    return None if run is None else answers.run_data(run, current_id=current.id if current else None)


# --- papers ------------------------------------------------------------------------------------


def paper_answer(request: HttpRequest, number: int):
    not_modified = paper_not_modified(request, number, endpoint="paper")
    if not_modified is not None:
        return not_modified
    work, run = find_paper(f"W{number}", view="paper")
    return answers.papers_data(request, [work], run)[work.id]


@api.post("/papers/batch", response={200: Batch, 400: Error, 429: Error}, tags=["papers"])
def papers_batch(request: HttpRequest, body: BatchRequest):
    """Up to 100 papers at once, by OpenAlex id or DOI; each id that names no corpus paper is
    answered with its error, in its place."""
    # Each id as a work number, or as the error it is answered with.
    numbers: list[int | tuple[int, str]] = []
    dois: dict[int, str] = {}
    for place, key in enumerate(body.ids):
        try:
            value = answers.parse_key(key)
        except ValueError as error:
            numbers.append((400, str(error)))
            continue
        if isinstance(value, str):
            dois[place] = value
        numbers.append(value if isinstance(value, int) else 0)
    held = answers.numbers_of_dois(dois.values())
    for place, doi in dois.items():
        numbers[place] = held.get(doi, (404, f"We hold no work with the DOI {doi}."))
    run = ScoringRun.objects.current()
    wanted = [number for number in numbers if isinstance(number, int) and 0 < number <= answers.MAX_WORK_ID]
    works = {work.id: work for work in ScoredWork.objects.for_page(run.id if run else None).filter(id__in=wanted)}
    corpus = [work for work in works.values() if (entry := getattr(work, "corpus_entry", None)) and entry.in_corpus]
    papers = answers.papers_data(request, corpus, run)
    results = []
    for key, number in zip(body.ids, numbers, strict=True):
        if isinstance(number, int) and number in papers:
            item = {"id": key, "paper": papers[number], "error": None}
        else:
            status, detail = (
                number if isinstance(number, tuple) else (404, answers.missing_paper_detail(number, works.get(number)))
            )
            item = {
                "id": key,
                "paper": None,
                "error": {"error": "bad_request" if status == 400 else "not_found", "detail": detail},
            }
        results.append(answers.with_reasons(item))
    return {"results": results}


@api.get("/papers", response={200: Paper, **NOT_MODIFIED, **ERRORS}, tags=["papers"])
def paper_by_doi(request: HttpRequest, doi: str):
    """A paper by its DOI in any spelling: `10.…`, `doi:10.…`, `https://doi.org/10.…`."""
    return paper_answer(request, answers.work_number(doi, status=400, doi_only=True))


@api.get("/papers/{path:key}/citers", response={200: CitersPage, **NOT_MODIFIED, **ERRORS}, tags=["papers"])
def paper_citers(
    request: HttpRequest,
    key: str,
    cursor: str | None = None,
    limit: int = Query(CITERS_PAGE, ge=1, le=MAX_CITERS_PAGE),
):
    """The citers the paper's score counts, in cap order (most cited first, ties by id), each
    with its contribution: the contributions add up to the network contribution."""
    number = answers.work_number(key)
    position = decode_cursor(cursor, "after")
    not_modified = paper_not_modified(request, number, endpoint="citers")
    if not_modified is not None:
        return not_modified
    page = PaperPage.build(f"W{number}", view="paper")
    after = position["after"] if position else 0
    kept = page.citers.kept
    rows = kept[after : after + limit]
    end = after + len(rows)
    data = {
        "openalex_id": page.work.openalex_id,
        "run": answers.current_run_data(page.run),
        "citer_cap": page.parameters.cap,
        "citing_works": len(kept),
        "self_citations_excluded": len(page.citers.excluded),
        "network_contribution": page.citers.network_contribution,
        "results": [answers.with_reasons(citer_data(row)) for row in rows],
        "next_cursor": encode_cursor(after=end) if end < len(kept) else None,
    }
    return answers.with_reasons(data)


@api.get("/papers/{path:key}", response={200: Paper, **NOT_MODIFIED, **ERRORS}, tags=["papers"])
def paper(request: HttpRequest, key: str):
    """A corpus paper by its OpenAlex work id or its DOI (slashes and all, or percent-encoded;
    a DOI ending in `/citers` must be asked for with `GET /papers?doi=`)."""
    return paper_answer(request, answers.work_number(key))


# --- lists -------------------------------------------------------------------------------------


def summaries(request: HttpRequest, works: list, run: ScoringRun | None) -> list[dict]:
    return [answers.summary_data(request, work, run) for work in works]


@api.get("/search", response={200: PapersPage, **ERRORS}, tags=["lists"])
def search(
    request: HttpRequest,
    q: str = Query(..., min_length=1, max_length=MAX_QUERY_LENGTH),
    sort: Literal["relevance", "datarank", "citations", "year"] = Query(Sort.RELEVANCE.value),
    year_from: int | None = Query(None, ge=MIN_YEAR, le=MAX_YEAR),
    year_to: int | None = Query(None, ge=MIN_YEAR, le=MAX_YEAR),
    tier: int | None = Query(None, ge=1, le=5),
    cursor: str | None = None,
    limit: int = Query(SEARCH_PAGE, ge=1, le=MAX_LIST_PAGE),
):
    """The site's title search: a DOI or an OpenAlex id finds its paper; results stop after
    1,000 (narrow the search to see others)."""
    given = {"q": q, "sort": sort, "year_from": year_from, "year_to": year_to, "tier": tier}
    form = SearchForm({name: str(value) for name, value in given.items() if value is not None})
    if not form.is_valid():
        raise HttpError(400, form.first_error())
    filters = form.cleaned_data
    position = decode_cursor(cursor, "run", "offset")
    current = ScoringRun.objects.current()
    run = page_run(position)
    run_id = run.id if run else None
    lookup = identifier_lookup(filters["q"])
    match = None
    if lookup is not None:
        match = Work.objects.in_corpus().filter(lookup).values_list("id", flat=True).first()
    works: WorkQuerySet
    if match is not None:
        works = ScoredWork.objects.in_corpus().filter(id=match).with_score(run_id).order_by("id")
    else:
        found = ScoredWork.objects.search(filters["q"]).defer(*LONG_FIELDS).with_score(run_id)
        if filters["tier"] is not None:
            found = found.in_tier(filters["tier"])
        works = order_results(filter_years(found, filters["year_from"], filters["year_to"]), filters["sort"])
    offset = position["offset"] if position else 0
    end = min(offset + limit, SEARCH_COUNT_CAP)
    # Ordered ids first, then their rows, so that only a page of whole rows is read.
    ids = list(works.values_list("pk", flat=True)[offset : end + 1])
    rows = {work.pk: work for work in works.filter(pk__in=ids[: end - offset])}
    more = len(ids) > end - offset
    reasons = {}
    if end >= SEARCH_COUNT_CAP and more:
        reasons["next_cursor"] = f"Search results stop after {SEARCH_COUNT_CAP:,}: narrow the search to see others."
    data = {
        "run": run_for_list(run, current),
        "results": summaries(request, [rows[pk] for pk in ids[: end - offset]], run),
        "next_cursor": encode_cursor(run=run_id or 0, offset=end) if more and end < SEARCH_COUNT_CAP else None,
    }
    return answers.with_reasons(data, reasons)


@api.get("/ranking", response={200: PapersPage, **ERRORS}, tags=["lists"])
def ranking(
    request: HttpRequest,
    tier: int | None = Query(None, ge=1, le=5),
    subfield: int | None = Query(None, ge=1, description="An OpenAlex subfield number, such as 1908 (Geophysics)."),
    year_from: int | None = Query(None, ge=MIN_YEAR, le=MAX_YEAR),
    year_to: int | None = Query(None, ge=MIN_YEAR, le=MAX_YEAR),
    cursor: str | None = None,
    limit: int = Query(RANKING_PAGE, ge=1, le=MAX_LIST_PAGE),
):
    """The ranked papers in DataRank order (rank, then id), filtered as the ranking page is."""
    given = {"tier": tier, "subfield": subfield, "year_from": year_from, "year_to": year_to}
    form = RankingForm({name: str(value) for name, value in given.items() if value is not None})
    if not form.is_valid():
        raise HttpError(400, form.first_error())
    filters = form.cleaned_data
    position = decode_cursor(cursor, "run", "rank", "id")
    current = ScoringRun.objects.current()
    run = page_run(position)
    rows: list = []
    more = False
    if run is not None:
        ranked = ScoredWork.objects.in_corpus().ranked(run.id)
        works: WorkQuerySet = ranked if filters["tier"] is None else ranked.in_tier(filters["tier"])
        if filters["subfield"] is not None:
            works = works.filter(subfield_id=filters["subfield"])
        works = filter_years(works, filters["year_from"], filters["year_to"])
        if position is not None:
            # After the last paper given, off the (run, rank) index: no OFFSET to walk through.
            works = works.filter(Q(rank__gt=position["rank"]) | Q(rank=position["rank"], id__gt=position["id"]))
        rows = list(works.defer(*LONG_FIELDS)[: limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
    last = rows[-1] if rows else None
    data = {
        "run": run_for_list(run, current),
        "results": summaries(request, rows, run),
        "next_cursor": encode_cursor(run=run.id, rank=last.rank, id=last.id) if more and run and last else None,
    }
    return answers.with_reasons(data)


# --- runs --------------------------------------------------------------------------------------


@api.get("/runs/current", response={200: Run, **ERRORS}, tags=["runs"])
def current_run(request: HttpRequest):
    """The run the site shows: the latest that succeeded."""
    run = ScoringRun.objects.current()
    if run is None:
        raise HttpError(404, "Nothing has been scored yet.")
    return answers.run_data(run, current_id=run.id)


@api.get("/runs/{int:run_id}", response={200: Run, **ERRORS}, tags=["runs"])
def run_by_id(request: HttpRequest, run_id: int):
    """Any scoring run, succeeded or not."""
    run = ScoringRun.objects.filter(id=run_id).first()
    if run is None:
        raise HttpError(404, f"There is no scoring run {run_id}.")
    current = ScoringRun.objects.current()
    return answers.run_data(run, current_id=current.id if current else None)
